//! The one vector type kernels are written against: four f32 lanes. On wasm32 built with
//! `-C target-feature=+simd128` it is a SIMD128 register (and with `+relaxed-simd` as well, its
//! multiply-add is the relaxed fused one); everywhere else (the scalar wasm build and the native test
//! build) it is four plain floats, so every build runs the same kernel code.
//! Gated with `cfg`, not `#[target_feature]`, so each binary contains only the opcodes of its build
//! (the scalar one no SIMD, the SIMD one no relaxed SIMD, which engines without it reject).

pub const LANES: usize = 4;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod imp {
    use core::arch::wasm32::*;

    #[derive(Clone, Copy)]
    pub struct F32x4(v128);

    impl F32x4 {
        #[inline(always)]
        pub fn zero() -> Self {
            F32x4(f32x4_splat(0.0))
        }
        #[inline(always)]
        pub fn splat(v: f32) -> Self {
            F32x4(f32x4_splat(v))
        }
        #[inline(always)]
        pub fn from_array(v: [f32; 4]) -> Self {
            F32x4(f32x4(v[0], v[1], v[2], v[3]))
        }
        /// Loads `s[0..4]`.
        #[inline(always)]
        pub fn load(s: &[f32]) -> Self {
            assert!(s.len() >= 4);
            // SAFETY: bounds checked above; v128_load has no alignment requirement.
            F32x4(unsafe { v128_load(s.as_ptr() as *const v128) })
        }
        /// Stores into `s[0..4]`.
        #[inline(always)]
        pub fn store(self, s: &mut [f32]) {
            assert!(s.len() >= 4);
            // SAFETY: bounds checked above; v128_store has no alignment requirement.
            unsafe { v128_store(s.as_mut_ptr() as *mut v128, self.0) }
        }
        /// Loads `s[i..i + 4]` without a bounds check.
        ///
        /// # Safety
        /// `i + 4 <= s.len()`.
        #[inline(always)]
        pub unsafe fn load_unchecked(s: &[f32], i: usize) -> Self {
            F32x4(v128_load(s.as_ptr().add(i) as *const v128))
        }
        /// Stores into `s[i..i + 4]` without a bounds check.
        ///
        /// # Safety
        /// `i + 4 <= s.len()`.
        #[inline(always)]
        pub unsafe fn store_unchecked(self, s: &mut [f32], i: usize) {
            v128_store(s.as_mut_ptr().add(i) as *mut v128, self.0)
        }
        /// Loads `s[i], s[i + 2], s[i + 4], s[i + 6]` (a stride-2 row) without a bounds check.
        ///
        /// # Safety
        /// `i + 7 <= s.len()`.
        #[inline(always)]
        pub unsafe fn load_even_unchecked(s: &[f32], i: usize) -> Self {
            let (a, b) = (Self::load_unchecked(s, i), Self::load_unchecked(s, i + 3));
            F32x4(i32x4_shuffle::<0, 2, 5, 7>(a.0, b.0))
        }
        /// Loads `s[0], s[stride], s[2 * stride], s[3 * stride]`.
        #[inline(always)]
        pub fn gather(s: &[f32], stride: usize) -> Self {
            F32x4(f32x4(s[0], s[stride], s[2 * stride], s[3 * stride]))
        }
        /// The even and the odd lanes of `a` followed by `b`.
        #[inline(always)]
        pub fn deinterleave(a: Self, b: Self) -> (Self, Self) {
            (F32x4(i32x4_shuffle::<0, 2, 4, 6>(a.0, b.0)), F32x4(i32x4_shuffle::<1, 3, 5, 7>(a.0, b.0)))
        }
        /// Lanes 1 to 3 of `self`, then lane 3 of `next`.
        #[inline(always)]
        pub fn shift_in(self, next: Self) -> Self {
            F32x4(i32x4_shuffle::<1, 2, 3, 7>(self.0, next.0))
        }
        #[inline(always)]
        pub fn add(self, o: Self) -> Self {
            F32x4(f32x4_add(self.0, o.0))
        }
        #[inline(always)]
        pub fn sub(self, o: Self) -> Self {
            F32x4(f32x4_sub(self.0, o.0))
        }
        #[inline(always)]
        pub fn mul(self, o: Self) -> Self {
            F32x4(f32x4_mul(self.0, o.0))
        }
        /// Lane-wise maximum; a NaN in either lane gives NaN.
        #[inline(always)]
        pub fn max(self, o: Self) -> Self {
            F32x4(f32x4_max(self.0, o.0))
        }
        /// Lane-wise minimum; a NaN in either lane gives NaN.
        #[inline(always)]
        pub fn min(self, o: Self) -> Self {
            F32x4(f32x4_min(self.0, o.0))
        }
        /// The 4x4 transpose of rows `m` (eight shuffles).
        #[inline(always)]
        pub fn transpose4(m: [Self; 4]) -> [Self; 4] {
            let [a, b, c, d] = m.map(|v| v.0);
            let lo_ab = i32x4_shuffle::<0, 4, 1, 5>(a, b);
            let hi_ab = i32x4_shuffle::<2, 6, 3, 7>(a, b);
            let lo_cd = i32x4_shuffle::<0, 4, 1, 5>(c, d);
            let hi_cd = i32x4_shuffle::<2, 6, 3, 7>(c, d);
            [
                F32x4(i32x4_shuffle::<0, 1, 4, 5>(lo_ab, lo_cd)),
                F32x4(i32x4_shuffle::<2, 3, 6, 7>(lo_ab, lo_cd)),
                F32x4(i32x4_shuffle::<0, 1, 4, 5>(hi_ab, hi_cd)),
                F32x4(i32x4_shuffle::<2, 3, 6, 7>(hi_ab, hi_cd)),
            ]
        }
        /// `self + a * b` (two instructions: SIMD128 has no fused multiply-add).
        #[cfg(not(target_feature = "relaxed-simd"))]
        #[inline(always)]
        pub fn mul_add(self, a: Self, b: Self) -> Self {
            F32x4(f32x4_add(self.0, f32x4_mul(a.0, b.0)))
        }
        /// `self + a * b` in one relaxed instruction: the engine may fuse it (one rounding) or not.
        #[cfg(target_feature = "relaxed-simd")]
        #[inline(always)]
        pub fn mul_add(self, a: Self, b: Self) -> Self {
            F32x4(f32x4_relaxed_madd(a.0, b.0, self.0))
        }
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod imp {
    #[derive(Clone, Copy)]
    pub struct F32x4([f32; 4]);

    impl F32x4 {
        #[inline(always)]
        pub fn zero() -> Self {
            F32x4([0.0; 4])
        }
        #[inline(always)]
        pub fn splat(v: f32) -> Self {
            F32x4([v; 4])
        }
        #[inline(always)]
        pub fn from_array(v: [f32; 4]) -> Self {
            F32x4(v)
        }
        #[inline(always)]
        pub fn load(s: &[f32]) -> Self {
            F32x4([s[0], s[1], s[2], s[3]])
        }
        #[inline(always)]
        pub fn store(self, s: &mut [f32]) {
            s[..4].copy_from_slice(&self.0);
        }
        /// # Safety
        /// `i + 4 <= s.len()`.
        #[inline(always)]
        pub unsafe fn load_unchecked(s: &[f32], i: usize) -> Self {
            F32x4(std::array::from_fn(|l| *s.get_unchecked(i + l)))
        }
        /// # Safety
        /// `i + 4 <= s.len()`.
        #[inline(always)]
        pub unsafe fn store_unchecked(self, s: &mut [f32], i: usize) {
            for (l, v) in self.0.into_iter().enumerate() {
                *s.get_unchecked_mut(i + l) = v;
            }
        }
        /// # Safety
        /// `i + 7 <= s.len()`.
        #[inline(always)]
        pub unsafe fn load_even_unchecked(s: &[f32], i: usize) -> Self {
            F32x4(std::array::from_fn(|l| *s.get_unchecked(i + 2 * l)))
        }
        #[inline(always)]
        pub fn gather(s: &[f32], stride: usize) -> Self {
            F32x4([s[0], s[stride], s[2 * stride], s[3 * stride]])
        }
        #[inline(always)]
        pub fn deinterleave(a: Self, b: Self) -> (Self, Self) {
            let (a, b) = (a.0, b.0);
            (F32x4([a[0], a[2], b[0], b[2]]), F32x4([a[1], a[3], b[1], b[3]]))
        }
        #[inline(always)]
        pub fn shift_in(self, next: Self) -> Self {
            F32x4([self.0[1], self.0[2], self.0[3], next.0[3]])
        }
        #[inline(always)]
        pub fn add(self, o: Self) -> Self {
            F32x4(std::array::from_fn(|i| self.0[i] + o.0[i]))
        }
        #[inline(always)]
        pub fn sub(self, o: Self) -> Self {
            F32x4(std::array::from_fn(|i| self.0[i] - o.0[i]))
        }
        #[inline(always)]
        pub fn mul(self, o: Self) -> Self {
            F32x4(std::array::from_fn(|i| self.0[i] * o.0[i]))
        }
        #[inline(always)]
        pub fn mul_add(self, a: Self, b: Self) -> Self {
            F32x4(std::array::from_fn(|i| self.0[i] + a.0[i] * b.0[i]))
        }
        #[inline(always)]
        pub fn max(self, o: Self) -> Self {
            F32x4(std::array::from_fn(|i| if self.0[i] > o.0[i] || self.0[i].is_nan() { self.0[i] } else { o.0[i] }))
        }
        #[inline(always)]
        pub fn min(self, o: Self) -> Self {
            F32x4(std::array::from_fn(|i| if self.0[i] < o.0[i] || self.0[i].is_nan() { self.0[i] } else { o.0[i] }))
        }
        #[inline(always)]
        pub fn transpose4(m: [Self; 4]) -> [Self; 4] {
            std::array::from_fn(|i| F32x4(std::array::from_fn(|j| m[j].0[i])))
        }
    }
}

pub use imp::F32x4;

/// True when this build's `F32x4` is a SIMD register.
pub const IS_SIMD: bool = cfg!(all(target_arch = "wasm32", target_feature = "simd128"));

/// True when this build's `F32x4::mul_add` is relaxed SIMD's multiply-add.
pub const IS_RELAXED: bool = cfg!(all(target_arch = "wasm32", target_feature = "simd128", target_feature = "relaxed-simd"));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_compute_elementwise() {
        let a = F32x4::load(&[1.0, 2.0, 3.0, 4.0]);
        let b = F32x4::load(&[0.5, 0.5, 2.0, -1.0]);
        let mut out = [0.0; 4];
        F32x4::splat(1.0).mul_add(a, b).add(F32x4::zero()).store(&mut out);
        assert_eq!(out, [1.5, 2.0, 7.0, -3.0]);
        a.sub(b).mul(F32x4::splat(2.0)).store(&mut out);
        assert_eq!(out, [1.0, 3.0, 2.0, 10.0]);
        F32x4::from_array([4.0, 3.0, 2.0, 1.0]).store(&mut out);
        assert_eq!(out, [4.0, 3.0, 2.0, 1.0]);
        let rows: [F32x4; 4] = std::array::from_fn(|r| F32x4::load(&[0.0, 1.0, 2.0, 3.0].map(|c| (4 * r) as f32 + c)));
        let t = F32x4::transpose4(rows);
        t[1].store(&mut out);
        assert_eq!(out, [1.0, 5.0, 9.0, 13.0]);
        let row: Vec<f32> = (0..10).map(|i| i as f32).collect();
        // SAFETY: 1 + 7 <= 10 and 6 + 4 <= 10.
        unsafe { F32x4::load_even_unchecked(&row, 1) }.store(&mut out);
        assert_eq!(out, [1.0, 3.0, 5.0, 7.0]);
        unsafe { F32x4::load_unchecked(&row, 6) }.store(&mut out);
        assert_eq!(out, [6.0, 7.0, 8.0, 9.0]);
        let mut wide = [0.0; 6];
        // SAFETY: 2 + 4 <= 6.
        unsafe { F32x4::splat(5.0).store_unchecked(&mut wide, 2) };
        assert_eq!(wide, [0.0, 0.0, 5.0, 5.0, 5.0, 5.0]);
        F32x4::gather(&row, 3).store(&mut out);
        assert_eq!(out, [0.0, 3.0, 6.0, 9.0]);
        let (even, odd) = F32x4::deinterleave(F32x4::load(&row[0..4]), F32x4::load(&row[4..8]));
        even.store(&mut out);
        assert_eq!(out, [0.0, 2.0, 4.0, 6.0]);
        odd.store(&mut out);
        assert_eq!(out, [1.0, 3.0, 5.0, 7.0]);
        even.shift_in(F32x4::load(&row[5..9])).store(&mut out);
        assert_eq!(out, [2.0, 4.0, 6.0, 8.0]);
        let nan = F32x4::from_array([f32::NAN, 1.0, 2.0, -1.0]);
        let other = F32x4::from_array([0.0, f32::NAN, 3.0, -2.0]);
        nan.max(other).store(&mut out);
        assert!(out[0].is_nan() && out[1].is_nan() && out[2..] == [3.0, -1.0]);
        nan.min(other).store(&mut out);
        assert!(out[0].is_nan() && out[1].is_nan() && out[2..] == [2.0, -2.0]);
    }
}
