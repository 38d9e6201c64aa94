//! Power-of-two FFTs for FFT convolution. Data is a matrix of complex numbers with `width` columns,
//! stored in blocks of four columns, `[re; 4]` then `[im; 4]`, so one block is a pair of `F32x4` and
//! a row is one contiguous slice. `Fft` transforms every column at once (the transform runs down the
//! rows): each butterfly works on whole vectors and each inner loop walks two contiguous rows, with
//! no shuffles. `RealFft2` builds the 2-D real-input transform from two of them.

use crate::simd::{F32x4, LANES};

/// Floats in one block of four complex columns.
pub const BLOCK: usize = 2 * LANES;

/// Index of the real part of element `(row, col)` in a block matrix `width` columns wide; the
/// imaginary part is `LANES` further.
#[inline(always)]
pub fn block_index(width: usize, row: usize, col: usize) -> usize {
    row * 2 * width + (col / LANES) * BLOCK + col % LANES
}

/// Four complex numbers, one per lane.
#[derive(Clone, Copy)]
struct C4 {
    re: F32x4,
    im: F32x4,
}

impl C4 {
    #[inline(always)]
    fn load(b: &[f32]) -> Self {
        C4 { re: F32x4::load(&b[..LANES]), im: F32x4::load(&b[LANES..BLOCK]) }
    }
    #[inline(always)]
    fn store(self, b: &mut [f32]) {
        self.re.store(&mut b[..LANES]);
        self.im.store(&mut b[LANES..BLOCK]);
    }
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        C4 { re: self.re.add(o.re), im: self.im.add(o.im) }
    }
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        C4 { re: self.re.sub(o.re), im: self.im.sub(o.im) }
    }
    /// `self * (wr + i wi)` for a twiddle splat across the lanes.
    #[inline(always)]
    fn mul(self, (wr, wi): (F32x4, F32x4)) -> Self {
        C4 { re: self.re.mul(wr).sub(self.im.mul(wi)), im: self.re.mul(wi).mul_add(self.im, wr) }
    }
}

/// `exp(-2 pi i t / n)` for `t` in `0..count`, computed in f64 so every twiddle is rounded once.
fn twiddles(n: usize, count: usize) -> (Vec<f32>, Vec<f32>) {
    (0..count)
        .map(|t| {
            let angle = -2.0 * std::f64::consts::PI * t as f64 / n as f64;
            (angle.cos() as f32, angle.sin() as f32)
        })
        .unzip()
}

/// Mutable rows `at`, `at + step`, `at + 2 step`, `at + 3 step` of a matrix with `row` floats per row.
#[inline(always)]
fn four_rows(data: &mut [f32], row: usize, at: usize, step: usize) -> [&mut [f32]; 4] {
    let (r0, rest) = data[at * row..].split_at_mut(step * row);
    let (r1, rest) = rest.split_at_mut(step * row);
    let (r2, r3) = rest.split_at_mut(step * row);
    [&mut r0[..row], &mut r1[..row], &mut r2[..row], &mut r3[..row]]
}

/// Complex FFT of one power-of-two length: bit-reversal, then radix-4 passes (two radix-2 stages
/// fused so each pass loads and stores every element once), with one radix-2 pass first when the
/// length is an odd power of two. Unnormalized in both directions.
pub struct Fft {
    n: usize,
    tw_re: Vec<f32>,
    tw_im: Vec<f32>,
}

impl Fft {
    pub fn new(n: usize) -> Self {
        assert!(n.is_power_of_two());
        let (tw_re, tw_im) = twiddles(n, (n / 2).max(1));
        Fft { n, tw_re, tw_im }
    }

    /// Transforms each column of the `n x width` block matrix at the start of `data` (`width` a
    /// multiple of `LANES`); `inverse` uses conjugate twiddles and does not divide by `n`.
    pub fn process(&self, data: &mut [f32], width: usize, inverse: bool) {
        assert_eq!(width % LANES, 0);
        let row = 2 * width;
        let data = &mut data[..self.n * row];
        self.bit_reverse_rows(data, row);
        if inverse {
            self.passes::<true>(data, row);
        } else {
            self.passes::<false>(data, row);
        }
    }

    fn bit_reverse_rows(&self, data: &mut [f32], row: usize) {
        if self.n <= 2 {
            return;
        }
        let shift = usize::BITS - self.n.trailing_zeros();
        for i in 0..self.n {
            let j = i.reverse_bits() >> shift;
            if i < j {
                let (lo, hi) = data.split_at_mut(j * row);
                lo[i * row..(i + 1) * row].swap_with_slice(&mut hi[..row]);
            }
        }
    }

    #[inline(always)]
    fn twiddle<const INV: bool>(&self, t: usize) -> (F32x4, F32x4) {
        let im = if INV { -self.tw_im[t] } else { self.tw_im[t] };
        (F32x4::splat(self.tw_re[t]), F32x4::splat(im))
    }

    fn passes<const INV: bool>(&self, data: &mut [f32], row: usize) {
        let mut h = 1;
        if self.n.trailing_zeros() % 2 == 1 {
            // Span-1 butterflies: every twiddle is 1.
            for pair in data.chunks_exact_mut(2 * row) {
                let (a, b) = pair.split_at_mut(row);
                for (ba, bb) in a.chunks_exact_mut(BLOCK).zip(b.chunks_exact_mut(BLOCK)) {
                    let (x, y) = (C4::load(ba), C4::load(bb));
                    x.add(y).store(ba);
                    x.sub(y).store(bb);
                }
            }
            h = 2;
        }
        while h < self.n {
            self.radix4_pass::<INV>(data, row, h);
            h *= 4;
        }
    }

    /// Radix-2 stages of spans `h` and `2h` fused: rows `j, j+h, j+2h, j+3h` of each block of `4h`.
    fn radix4_pass<const INV: bool>(&self, data: &mut [f32], row: usize, h: usize) {
        let n = self.n;
        for start in (0..n).step_by(4 * h) {
            // j = 0 has unit twiddles (all of the first pass): skip its multiplications.
            radix4_rows::<INV, true>(four_rows(data, row, start, h), self.twiddle::<INV>(0), self.twiddle::<INV>(0));
            for j in 1..h {
                let w1 = self.twiddle::<INV>(j * n / (2 * h));
                let w2 = self.twiddle::<INV>(j * n / (4 * h));
                radix4_rows::<INV, false>(four_rows(data, row, start + j, h), w1, w2);
            }
        }
    }
}

/// One radix-4 butterfly (two fused radix-2 stages) on every block of four rows; `UNIT` says both
/// twiddles are 1.
#[inline(always)]
fn radix4_rows<const INV: bool, const UNIT: bool>(rows: [&mut [f32]; 4], w1: (F32x4, F32x4), w2: (F32x4, F32x4)) {
    let [r0, r1, r2, r3] = rows;
    let twiddle = |x: C4, w| if UNIT { x } else { x.mul(w) };
    let blocks = r0
        .chunks_exact_mut(BLOCK)
        .zip(r1.chunks_exact_mut(BLOCK))
        .zip(r2.chunks_exact_mut(BLOCK))
        .zip(r3.chunks_exact_mut(BLOCK));
    for (((b0, b1), b2), b3) in blocks {
        let t1 = twiddle(C4::load(b1), w1);
        let t3 = twiddle(C4::load(b3), w1);
        let (x0, x2) = (C4::load(b0), C4::load(b2));
        let (y0, y1, y2, y3) = (x0.add(t1), x0.sub(t1), x2.add(t3), x2.sub(t3));
        let u = twiddle(y2, w2);
        // The span-2h twiddle of the odd pair is w2 times -i (forward) or +i (inverse).
        let v = twiddle(y3, w2);
        let plus = C4 { re: y1.re.add(v.im), im: y1.im.sub(v.re) };
        let minus = C4 { re: y1.re.sub(v.im), im: y1.im.add(v.re) };
        let (z1, z3) = if INV { (minus, plus) } else { (plus, minus) };
        y0.add(u).store(b0);
        z1.store(b1);
        y0.sub(u).store(b2);
        z3.store(b3);
    }
}

/// 2-D FFT of a real `rows x cols` tile (both powers of two, `rows >= 2`, `cols >= LANES`).
///
/// Down the columns it is a real-input transform by the half-length trick: tile rows `2m` and
/// `2m + 1` are packed as the real and imaginary parts of row `m` of a complex matrix, transformed
/// with a length `rows/2` FFT, and split into frequencies `0..=rows/2`. That half-spectrum is then
/// transposed (so the second axis also runs down the rows, `rows/2 + 1` columns padded to whole
/// vectors) and transformed across with a length `cols` FFT.
pub struct RealFft2 {
    rows: usize,
    cols: usize,
    /// `rows/2 + 1` vertical frequencies rounded up to whole vectors: the spectrum's width.
    lanes: usize,
    half: Fft,
    across: Fft,
    /// `exp(-2 pi i k / rows)` for the split of row pair `k`, `rows/2 - k`.
    split_re: Vec<f32>,
    split_im: Vec<f32>,
}

impl RealFft2 {
    pub fn new(rows: usize, cols: usize) -> Self {
        assert!(rows >= 2 && rows.is_power_of_two() && cols >= LANES && cols.is_power_of_two());
        let (split_re, split_im) = twiddles(rows, rows / 4 + 1);
        RealFft2 {
            rows,
            cols,
            lanes: (rows / 2 + 1).div_ceil(LANES) * LANES,
            half: Fft::new(rows / 2),
            across: Fft::new(cols),
            split_re,
            split_im,
        }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Floats of a packed tile: `rows/2 + 1` rows of `cols` complex (the last row is work space).
    pub fn packed_len(&self) -> usize {
        (self.rows / 2 + 1) * 2 * self.cols
    }

    /// Floats of a spectrum: `cols` rows (horizontal frequency) of `lanes` complex (vertical
    /// frequency `0..=rows/2`, then zero padding).
    pub fn spectrum_len(&self) -> usize {
        self.cols * 2 * self.lanes
    }

    /// Width of a spectrum row in complex numbers.
    pub fn lanes(&self) -> usize {
        self.lanes
    }

    /// `packed` holds the tile (row `m`: tile row `2m` as real parts, `2m + 1` as imaginary parts,
    /// see `block_index`); writes twice the 2-D DFT into `spectrum`. `packed` is clobbered.
    pub fn forward(&self, packed: &mut [f32], spectrum: &mut [f32]) {
        self.half.process(packed, self.cols, false);
        self.mirrored_rows(packed, true, |w, a, b| {
            // a = Z[k], b = Z[half-k]: even part E = a + conj b, odd part O = -i (a - conj b);
            // X[k] = E + W^k O and X[half-k] = conj(E - W^k O) (both doubled).
            let e = C4 { re: a.re.add(b.re), im: a.im.sub(b.im) };
            let o = C4 { re: a.im.add(b.im), im: b.re.sub(a.re) };
            let p = o.mul(w);
            (e.add(p), C4 { re: e.re.sub(p.re), im: p.im.sub(e.im) })
        });
        self.transpose(packed, spectrum, true);
        self.across.process(spectrum, self.lanes, false);
    }

    /// Inverse of `forward`, unnormalized: `inverse(S)` is `rows * cols` times the tile whose DFT is
    /// `S`, so `inverse(forward(x)) = 2 * rows * cols * x`.
    /// Leaves the tile in `packed` in the same layout; `spectrum` is clobbered.
    pub fn inverse(&self, spectrum: &mut [f32], packed: &mut [f32]) {
        self.across.process(spectrum, self.lanes, true);
        self.transpose(packed, spectrum, false);
        self.mirrored_rows(packed, false, |w, a, b| {
            // a = X[k], b = X[half-k]: E = a + conj b, O = (a - conj b) conj(W^k);
            // Z[k] = E + i O and Z[half-k] = conj(E - i O) (both doubled).
            let e = C4 { re: a.re.add(b.re), im: a.im.sub(b.im) };
            let d = C4 { re: a.re.sub(b.re), im: a.im.add(b.im) };
            let o = d.mul((w.0, F32x4::zero().sub(w.1)));
            (C4 { re: e.re.sub(o.im), im: e.im.add(o.re) }, C4 { re: e.re.add(o.im), im: o.re.sub(e.im) })
        });
        self.half.process(packed, self.cols, true);
    }

    /// Runs `f(W^k, row k, row half-k)` for `k` in `0..=half/2` and stores its two results back
    /// into rows `k` and `half-k`. In the forward split row `half` is not an input: `Z[half]` is
    /// `Z[0]`.
    #[inline(always)]
    fn mirrored_rows(&self, data: &mut [f32], forward: bool, f: impl Fn((F32x4, F32x4), C4, C4) -> (C4, C4)) {
        let (half, row) = (self.rows / 2, 2 * self.cols);
        for k in 0..=half / 2 {
            let w = (F32x4::splat(self.split_re[k]), F32x4::splat(self.split_im[k]));
            let k2 = half - k;
            if k == k2 {
                for b in data[k * row..][..row].chunks_exact_mut(BLOCK) {
                    let a = C4::load(b);
                    f(w, a, a).0.store(b);
                }
                continue;
            }
            let (lo, hi) = data.split_at_mut(k2 * row);
            for (bk, bk2) in lo[k * row..][..row].chunks_exact_mut(BLOCK).zip(hi[..row].chunks_exact_mut(BLOCK)) {
                let a = C4::load(bk);
                let b = if forward && k == 0 { a } else { C4::load(bk2) };
                let (x, y) = f(w, a, b);
                x.store(bk);
                y.store(bk2);
            }
        }
    }

    /// Copies between the half-spectrum (`rows/2 + 1` rows of `cols`) and its transpose (`cols`
    /// rows of `lanes`), in the direction `to_spectrum` says: 4x4 blocks through registers, then
    /// the leftover rows one element at a time.
    fn transpose(&self, packed: &mut [f32], spectrum: &mut [f32], to_spectrum: bool) {
        let (height, width) = (self.rows / 2 + 1, self.cols);
        let whole = height / LANES * LANES;
        for k in (0..whole).step_by(LANES) {
            for c in (0..width).step_by(LANES) {
                for part in [0, LANES] {
                    let p = |i: usize| block_index(width, k + i, c) + part;
                    let s = |i: usize| block_index(self.lanes, c + i, k) + part;
                    if to_spectrum {
                        let t = F32x4::transpose4(std::array::from_fn(|i| F32x4::load(&packed[p(i)..])));
                        for (i, v) in t.into_iter().enumerate() {
                            v.store(&mut spectrum[s(i)..]);
                        }
                    } else {
                        let t = F32x4::transpose4(std::array::from_fn(|i| F32x4::load(&spectrum[s(i)..])));
                        for (i, v) in t.into_iter().enumerate() {
                            v.store(&mut packed[p(i)..]);
                        }
                    }
                }
            }
        }
        for k in whole..height {
            for c in 0..width {
                for part in [0, LANES] {
                    let p = block_index(width, k, c) + part;
                    let s = block_index(self.lanes, c, k) + part;
                    if to_spectrum {
                        spectrum[s] = packed[p];
                    } else {
                        packed[p] = spectrum[s];
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_data::uniform;

    fn naive_dft(re: &[f64], im: &[f64], sign: f64) -> (Vec<f64>, Vec<f64>) {
        let n = re.len();
        let (cos, sin): (Vec<f64>, Vec<f64>) =
            (0..n).map(|t| (2.0 * std::f64::consts::PI * t as f64 / n as f64).sin_cos()).map(|(s, c)| (c, sign * s)).unzip();
        (0..n)
            .map(|k| {
                let (mut ar, mut ai) = (0.0, 0.0);
                for j in 0..n {
                    let t = (j * k) % n;
                    ar += re[j] * cos[t] - im[j] * sin[t];
                    ai += re[j] * sin[t] + im[j] * cos[t];
                }
                (ar, ai)
            })
            .unzip()
    }

    #[test]
    fn complex_fft_matches_a_naive_dft_for_every_size_up_to_4096() {
        let width = LANES;
        for log in 0..=12 {
            let n = 1usize << log;
            let fft = Fft::new(n);
            let input = uniform(n * 2 * width, log as u64);
            for inverse in [false, true] {
                let mut data = input.clone();
                fft.process(&mut data, width, inverse);
                // Every lane of the small sizes; one lane of the large ones keeps the O(n^2) check fast.
                let lanes = if n <= 256 { 0..width } else { log % width..log % width + 1 };
                for lane in lanes {
                    let at = |r: usize| block_index(width, r, lane);
                    let re: Vec<f64> = (0..n).map(|r| input[at(r)] as f64).collect();
                    let im: Vec<f64> = (0..n).map(|r| input[at(r) + LANES] as f64).collect();
                    let (er, ei) = naive_dft(&re, &im, if inverse { 1.0 } else { -1.0 });
                    // Random unit inputs give outputs of size ~sqrt(n); f32 rounding grows ~log n.
                    let tol = 2e-7 * (n as f64).sqrt() * (log as f64 + 1.0) * 4.0;
                    for r in 0..n {
                        let (gr, gi) = (data[at(r)] as f64, data[at(r) + LANES] as f64);
                        assert!((gr - er[r]).abs() < tol && (gi - ei[r]).abs() < tol, "n={n} inverse={inverse} lane={lane} k={r}: got ({gr}, {gi}) want ({}, {})", er[r], ei[r]);
                    }
                }
            }
        }
    }

    #[test]
    fn real_2d_fft_is_twice_the_dft_and_inverts() {
        for (rows, cols) in [(2, 4), (4, 4), (8, 16), (32, 8), (16, 64)] {
            let fft = RealFft2::new(rows, cols);
            let tile = uniform(rows * cols, (rows * 31 + cols) as u64);
            let mut packed = vec![0.0; fft.packed_len()];
            for r in 0..rows {
                for c in 0..cols {
                    packed[block_index(cols, r / 2, c) + (r % 2) * LANES] = tile[r * cols + c];
                }
            }
            let mut spectrum = vec![0.0; fft.spectrum_len()];
            fft.forward(&mut packed.clone(), &mut spectrum);
            for kr in 0..=rows / 2 {
                for kc in 0..cols {
                    let (mut er, mut ei) = (0.0f64, 0.0f64);
                    for r in 0..rows {
                        for c in 0..cols {
                            let a = -2.0 * std::f64::consts::PI * ((kr * r) as f64 / rows as f64 + (kc * c) as f64 / cols as f64);
                            er += tile[r * cols + c] as f64 * a.cos();
                            ei += tile[r * cols + c] as f64 * a.sin();
                        }
                    }
                    let s = block_index(fft.lanes(), kc, kr);
                    let (gr, gi) = (spectrum[s] as f64 / 2.0, spectrum[s + LANES] as f64 / 2.0);
                    assert!((gr - er).abs() < 1e-4 && (gi - ei).abs() < 1e-4, "{rows}x{cols} ({kr}, {kc}): got ({gr}, {gi}) want ({er}, {ei})");
                }
            }
            let mut back = vec![0.0; fft.packed_len()];
            fft.inverse(&mut spectrum, &mut back);
            let scale = (2 * rows * cols) as f32;
            for r in 0..rows {
                for c in 0..cols {
                    let got = back[block_index(cols, r / 2, c) + (r % 2) * LANES] / scale;
                    assert!((got - tile[r * cols + c]).abs() < 1e-5, "{rows}x{cols} round trip at ({r}, {c})");
                }
            }
        }
    }
}
