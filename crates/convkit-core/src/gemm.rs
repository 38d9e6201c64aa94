//! Packed GEMM: `C[M x N] = A[M x K] * B[K x N] + bias`, with A packed into panels of MR rows and B
//! into panels of NR columns so the microkernel reads both sequentially. The microkernel holds a
//! 4x8 tile in eight 4-lane accumulators (V8 spills beyond about eight vector registers).

use crate::simd::F32x4;

pub const MR: usize = 4;
pub const NR: usize = 8;

/// Packs rows `0..m` of a row-major `a` (`m x k`, row stride `k`) into ceil(m/MR) panels laid out
/// `[panel][k][MR]`, zero-filling missing rows.
pub fn pack_a(a: &[f32], m: usize, k: usize, dst: &mut Vec<f32>) {
    let panels = m.div_ceil(MR);
    dst.clear();
    dst.resize(panels * k * MR, 0.0);
    for p in 0..panels {
        let panel = &mut dst[p * k * MR..(p + 1) * k * MR];
        for r in 0..MR.min(m - p * MR) {
            let row = &a[(p * MR + r) * k..][..k];
            for (kk, &v) in row.iter().enumerate() {
                panel[kk * MR + r] = v;
            }
        }
    }
}

/// Multiplies one A panel (`k x MR`) by one B panel (`k x NR`) and writes the `rows x cols` valid
/// part of the tile, plus `bias[r]` per row, into `c` (row stride `ldc`).
#[inline(always)]
pub fn microkernel_4x8(
    k: usize,
    a: &[f32],
    b: &[f32],
    bias: [f32; MR],
    c: &mut [f32],
    ldc: usize,
    rows: usize,
    cols: usize,
) {
    let a = &a[..k * MR];
    let b = &b[..k * NR];
    let mut acc = [[F32x4::zero(); 2]; MR];
    for kk in 0..k {
        let b0 = F32x4::load(&b[kk * NR..]);
        let b1 = F32x4::load(&b[kk * NR + 4..]);
        let ak = &a[kk * MR..kk * MR + MR];
        for r in 0..MR {
            let ar = F32x4::splat(ak[r]);
            acc[r][0] = acc[r][0].mul_add(ar, b0);
            acc[r][1] = acc[r][1].mul_add(ar, b1);
        }
    }
    for r in 0..rows {
        let bias_r = F32x4::splat(bias[r]);
        let row = &mut c[r * ldc..];
        if cols == NR {
            acc[r][0].add(bias_r).store(&mut row[0..4]);
            acc[r][1].add(bias_r).store(&mut row[4..8]);
        } else {
            let mut tile = [0.0f32; NR];
            acc[r][0].add(bias_r).store(&mut tile[0..4]);
            acc[r][1].add(bias_r).store(&mut tile[4..8]);
            row[..cols].copy_from_slice(&tile[..cols]);
        }
    }
}

/// `c[m x n] = a * b + bias` over packed operands: `a_packed` from `pack_a`, `b_packed` holding
/// ceil(n/NR) panels `[panel][k][NR]`. `c` has row stride `ldc`.
pub fn gemm_packed(
    m: usize,
    n: usize,
    k: usize,
    a_packed: &[f32],
    b_packed: &[f32],
    bias: Option<&[f32]>,
    c: &mut [f32],
    ldc: usize,
) {
    for mp in 0..m.div_ceil(MR) {
        let rows = MR.min(m - mp * MR);
        let mut bias_tile = [0.0; MR];
        if let Some(bias) = bias {
            bias_tile[..rows].copy_from_slice(&bias[mp * MR..mp * MR + rows]);
        }
        let a = &a_packed[mp * k * MR..];
        for np in 0..n.div_ceil(NR) {
            let cols = NR.min(n - np * NR);
            let b = &b_packed[np * k * NR..];
            let c_tile = &mut c[mp * MR * ldc + np * NR..];
            microkernel_4x8(k, a, b, bias_tile, c_tile, ldc, rows, cols);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Packs a row-major `k x n` matrix into NR-column panels (test helper; convolution packs
    /// its own B straight from the image).
    fn pack_b(b: &[f32], k: usize, n: usize) -> Vec<f32> {
        let panels = n.div_ceil(NR);
        let mut out = vec![0.0; panels * k * NR];
        for p in 0..panels {
            for kk in 0..k {
                for j in 0..NR.min(n - p * NR) {
                    out[(p * k + kk) * NR + j] = b[kk * n + p * NR + j];
                }
            }
        }
        out
    }

    #[test]
    fn gemm_matches_naive_on_ragged_sizes() {
        for &(m, n, k) in &[(1, 1, 1), (4, 8, 3), (5, 9, 7), (7, 17, 13), (12, 3, 32)] {
            let a: Vec<f32> = (0..m * k).map(|i| ((i * 7 % 11) as f32) - 5.0).collect();
            let b: Vec<f32> = (0..k * n).map(|i| ((i * 5 % 13) as f32) * 0.5 - 3.0).collect();
            let bias: Vec<f32> = (0..m).map(|i| i as f32).collect();
            let mut a_packed = Vec::new();
            pack_a(&a, m, k, &mut a_packed);
            let ldc = n + 2;
            let mut c = vec![f32::NAN; m * ldc];
            gemm_packed(m, n, k, &a_packed, &pack_b(&b, k, n), Some(&bias), &mut c, ldc);
            for i in 0..m {
                for j in 0..n {
                    let want: f32 = bias[i] + (0..k).map(|kk| a[i * k + kk] * b[kk * n + j]).sum::<f32>();
                    assert_eq!(c[i * ldc + j], want, "m={m} n={n} k={k} at ({i},{j})");
                }
                assert!(c[i * ldc + n].is_nan(), "wrote past the valid columns");
            }
        }
    }
}
