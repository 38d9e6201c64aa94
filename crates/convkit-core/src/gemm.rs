//! Packed GEMM: `C[M x N] = A[M x K] * B[K x N] + bias`, with A packed into panels of MR rows and B
//! into panels of NR columns so the microkernel reads both sequentially. The microkernel holds a
//! 4x8 tile in eight 4-lane accumulators (V8 spills beyond about eight vector registers).

use crate::simd::{F32x4, LANES};

pub const MR: usize = 4;
pub const NR: usize = 8;

/// Packs rows `0..m` of a row-major `a` (`m x k`, row stride `lda`) into ceil(m/MR) panels laid out
/// `[panel][k][MR]`, zero-filling missing rows.
pub fn pack_a(a: &[f32], m: usize, k: usize, lda: usize, dst: &mut Vec<f32>) {
    let panels = m.div_ceil(MR);
    dst.clear();
    dst.resize(panels * k * MR, 0.0);
    for p in 0..panels {
        let panel = &mut dst[p * k * MR..(p + 1) * k * MR];
        for r in 0..MR.min(m - p * MR) {
            let row = &a[(p * MR + r) * lda..][..k];
            for (kk, &v) in row.iter().enumerate() {
                panel[kk * MR + r] = v;
            }
        }
    }
}

/// Packs a gathered B (`k x n`) into NR-column panels `[n / NR][k][n % NR]`: element (kk, j) is
/// `src[row_offsets[kk] + column_offsets[j]]`, so im2col (and its transpose, by swapping the two
/// offset lists) packs straight from the image. The last panel is zero-filled.
pub fn pack_b_gathered(src: &[f32], row_offsets: &[usize], column_offsets: &[usize], dst: &mut Vec<f32>) {
    let k = row_offsets.len();
    // No clear(): every float is written below, so a reused buffer is not zero-filled again.
    dst.resize(column_offsets.len().div_ceil(NR) * k * NR, 0.0);
    let (Some(&max_row), Some(&max_col)) = (row_offsets.iter().max(), column_offsets.iter().max()) else {
        return;
    };
    // One bounds check for the whole gather, so the loops below read unchecked.
    assert!(max_row + max_col < src.len(), "gather reads past the source");
    for (cols, dst_panel) in column_offsets.chunks(NR).zip(dst.chunks_exact_mut(k * NR)) {
        let (dst_rows, _) = dst_panel.as_chunks_mut::<NR>();
        let quads = [ColumnQuad::new(cols, 0), ColumnQuad::new(cols, LANES)];
        for (d, &row) in dst_rows.iter_mut().zip(row_offsets) {
            let (lo, hi) = d.split_at_mut(LANES);
            // SAFETY: a quad reads only between `row +` its first and last column, checked above.
            unsafe {
                quads[0].load(src, row).store(lo);
                quads[1].load(src, row).store(hi);
            }
        }
    }
}

/// How four columns of a B panel sit in the source, so packing reads them as one vector where it can:
/// consecutive (stride-1 convolutions), every other one (stride 2), or anywhere (row ends, ragged
/// panels: a missing column reads as zero).
enum ColumnQuad {
    Consecutive(usize),
    Even(usize),
    Any([Option<usize>; LANES]),
}

impl ColumnQuad {
    fn new(cols: &[usize], first: usize) -> Self {
        let quad: [Option<usize>; LANES] = std::array::from_fn(|l| cols.get(first + l).copied());
        match quad {
            [Some(c), ..] if (1..LANES).all(|l| quad[l] == Some(c + l)) => ColumnQuad::Consecutive(c),
            [Some(c), ..] if (1..LANES).all(|l| quad[l] == Some(c + 2 * l)) => ColumnQuad::Even(c),
            _ => ColumnQuad::Any(quad),
        }
    }

    /// # Safety
    /// `row + c < src.len()` for every column `c` of the quad.
    #[inline(always)]
    unsafe fn load(&self, src: &[f32], row: usize) -> F32x4 {
        match *self {
            ColumnQuad::Consecutive(c) => F32x4::load_unchecked(src, row + c),
            ColumnQuad::Even(c) => F32x4::load_even_unchecked(src, row + c),
            ColumnQuad::Any(cols) => F32x4::from_array(cols.map(|c| c.map_or(0.0, |c| *src.get_unchecked(row + c)))),
        }
    }
}

/// Floats of packed B kept live at once: sized to sit in L2 next to the A panels.
pub const B_BLOCK_FLOATS: usize = 64 * 1024;

/// `c[m x n] += a[m x k] * b^T`, the shape of every weight gradient: `a` is row-major with row stride
/// `lda`, and element (j, p) of `b` (`n x k`) is `src[n_offsets[j] + k_offsets[p]]`. The reduction
/// axis is blocked so each packed block of `b` stays in cache.
pub fn gemm_abt_accumulate(a: &[f32], lda: usize, m: usize, src: &[f32], n_offsets: &[usize], k_offsets: &[usize], c: &mut [f32]) {
    let (n, k) = (n_offsets.len(), k_offsets.len());
    let block = (B_BLOCK_FLOATS / n.max(1)).max(16);
    let (mut a_packed, mut b_packed, mut tile) = (Vec::new(), Vec::new(), vec![0.0; m * n]);
    for p0 in (0..k).step_by(block) {
        let kb = block.min(k - p0);
        pack_a(&a[p0..], m, kb, lda, &mut a_packed);
        pack_b_gathered(src, &k_offsets[p0..p0 + kb], n_offsets, &mut b_packed);
        gemm_packed(m, n, kb, &a_packed, &b_packed, None, &mut tile, n);
        for (acc, t) in c[..m * n].iter_mut().zip(&tile) {
            *acc += t;
        }
    }
}

/// One B panel (`k x NR`) as the microkernel reads it, row by row.
pub trait BPanel {
    /// How many rows the panel holds.
    fn rows(&self) -> usize;
    /// Row `kk` of the panel as two vectors.
    ///
    /// # Safety
    /// `kk < self.rows()`.
    unsafe fn row(&self, kk: usize) -> (F32x4, F32x4);
}

/// A panel packed `[k][NR]` (by `pack_b_gathered`).
pub struct PackedPanel<'a>(&'a [f32]);

impl<'a> PackedPanel<'a> {
    pub fn new(b: &'a [f32], k: usize) -> Self {
        assert!(b.len() >= k * NR, "a packed panel holds k rows");
        PackedPanel(b)
    }
}

impl BPanel for PackedPanel<'_> {
    fn rows(&self) -> usize {
        self.0.len() / NR
    }
    #[inline(always)]
    unsafe fn row(&self, kk: usize) -> (F32x4, F32x4) {
        (F32x4::load_unchecked(self.0, kk * NR), F32x4::load_unchecked(self.0, kk * NR + LANES))
    }
}

/// NR consecutive columns of an im2col matrix read where the image holds them: row `kk` is
/// `src[row_offsets[kk] + column..][..NR]` (a stride-1 convolution's panel inside one output row).
pub struct ImagePanel<'a> {
    src: &'a [f32],
    row_offsets: &'a [usize],
    column: usize,
}

impl<'a> ImagePanel<'a> {
    /// `max_row` is the largest of `row_offsets`.
    pub fn new(src: &'a [f32], row_offsets: &'a [usize], max_row: usize, column: usize) -> Self {
        assert!(max_row + column + NR <= src.len(), "an image panel reads inside the image");
        ImagePanel { src, row_offsets, column }
    }
}

impl BPanel for ImagePanel<'_> {
    fn rows(&self) -> usize {
        self.row_offsets.len()
    }
    #[inline(always)]
    unsafe fn row(&self, kk: usize) -> (F32x4, F32x4) {
        let at = *self.row_offsets.get_unchecked(kk) + self.column;
        (F32x4::load_unchecked(self.src, at), F32x4::load_unchecked(self.src, at + LANES))
    }
}

/// Multiplies one A panel (`k x MR`) by one B panel (`k x NR`) and writes the `rows x cols` valid
/// part of the tile, plus `bias[r]` per row, into `c` (row stride `ldc`).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn microkernel_4x8(
    k: usize,
    a: &[f32],
    b: &impl BPanel,
    bias: [f32; MR],
    c: &mut [f32],
    ldc: usize,
    rows: usize,
    cols: usize,
) {
    // Fixed-size chunks: the loop carries no bounds checks (V8 does not hoist them).
    let (a, _) = a[..k * MR].as_chunks::<MR>();
    assert!(k <= b.rows(), "the B panel holds k rows");
    let mut acc = [[F32x4::zero(); 2]; MR];
    for (kk, ak) in a.iter().enumerate() {
        // SAFETY: kk < k <= b.rows(), checked above.
        let (b0, b1) = unsafe { b.row(kk) };
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

/// The bias of A panel `mp`'s rows (zeros without a bias, or past the last row).
fn bias_tile(bias: Option<&[f32]>, mp: usize, rows: usize) -> [f32; MR] {
    let mut tile = [0.0; MR];
    if let Some(bias) = bias {
        tile[..rows].copy_from_slice(&bias[mp * MR..mp * MR + rows]);
    }
    tile
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
        let bias_tile = bias_tile(bias, mp, rows);
        let a = &a_packed[mp * k * MR..];
        for np in 0..n.div_ceil(NR) {
            let cols = NR.min(n - np * NR);
            let b = PackedPanel::new(&b_packed[np * k * NR..], k);
            let c_tile = &mut c[mp * MR * ldc + np * NR..];
            microkernel_4x8(k, a, &b, bias_tile, c_tile, ldc, rows, cols);
        }
    }
}

/// `c[m x n] = a * B + bias` where B is the im2col matrix of `src` (element (kk, j) at
/// `src[row_offsets[kk] + column_offsets[j]]`, n = column_offsets.len()). A panel of NR consecutive
/// columns is read where the image holds it, with no packing; any other panel (across a row end, or
/// the ragged last one) is packed into `scratch` first. Each B panel meets every A panel before the
/// next, so this suits an `a_packed` small enough to stay in cache.
#[allow(clippy::too_many_arguments)]
pub fn gemm_im2col(
    m: usize,
    a_packed: &[f32],
    src: &[f32],
    row_offsets: &[usize],
    column_offsets: &[usize],
    bias: Option<&[f32]>,
    c: &mut [f32],
    ldc: usize,
    scratch: &mut Vec<f32>,
) {
    let k = row_offsets.len();
    let Some(&max_row) = row_offsets.iter().max() else {
        return;
    };
    for (np, cols) in column_offsets.chunks(NR).enumerate() {
        let c_panel = &mut c[np * NR..];
        if cols.len() == NR && cols.windows(2).all(|w| w[1] == w[0] + 1) {
            times_a_panels(m, k, a_packed, &ImagePanel::new(src, row_offsets, max_row, cols[0]), bias, c_panel, ldc, NR);
        } else {
            pack_b_gathered(src, row_offsets, cols, scratch);
            times_a_panels(m, k, a_packed, &PackedPanel::new(scratch, k), bias, c_panel, ldc, cols.len());
        }
    }
}

/// Multiplies every A panel by one B panel into the panel's `cols` columns of `c`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn times_a_panels(m: usize, k: usize, a_packed: &[f32], b: &impl BPanel, bias: Option<&[f32]>, c: &mut [f32], ldc: usize, cols: usize) {
    for mp in 0..m.div_ceil(MR) {
        let rows = MR.min(m - mp * MR);
        microkernel_4x8(k, &a_packed[mp * k * MR..], b, bias_tile(bias, mp, rows), &mut c[mp * MR * ldc..], ldc, rows, cols);
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
            pack_a(&a, m, k, k, &mut a_packed);
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

    #[test]
    fn im2col_gemm_reads_consecutive_panels_in_place_and_packs_the_rest() {
        // A 3x3 stride-1 "convolution" of a 2-channel 7x11 image: output rows of 9 columns, so
        // panels start inside a row, cross row ends, and the last one is ragged.
        let (h, w, taps) = (7, 11, 3);
        let src: Vec<f32> = (0..2 * h * w).map(|i| ((i * 37 % 101) as f32) * 0.25 - 12.0).collect();
        let row_offsets: Vec<usize> = (0..2).flat_map(|c| (0..taps * taps).map(move |t| c * h * w + (t / taps) * w + t % taps)).collect();
        let column_offsets: Vec<usize> = (0..h - 2).flat_map(|oh| (0..w - 2).map(move |ow| oh * w + ow)).collect();
        let (m, k, n) = (6, row_offsets.len(), column_offsets.len());
        let a: Vec<f32> = (0..m * k).map(|i| ((i * 7 % 11) as f32) - 5.0).collect();
        let bias: Vec<f32> = (0..m).map(|i| i as f32 - 2.0).collect();
        let mut a_packed = Vec::new();
        pack_a(&a, m, k, k, &mut a_packed);
        let ldc = n + 3;
        let mut c = vec![f32::NAN; m * ldc];
        // A stale, longer scratch: packed panels must not read past what they packed.
        let mut scratch = vec![f32::NAN; 4096];
        gemm_im2col(m, &a_packed, &src, &row_offsets, &column_offsets, Some(&bias), &mut c, ldc, &mut scratch);
        for i in 0..m {
            for (j, &col) in column_offsets.iter().enumerate() {
                let want: f32 = bias[i] + (0..k).map(|kk| a[i * k + kk] * src[row_offsets[kk] + col]).sum::<f32>();
                assert!((c[i * ldc + j] - want).abs() <= 1e-3 * want.abs().max(1.0), "({i},{j}) {} vs {want}", c[i * ldc + j]);
            }
            assert!(c[i * ldc + n..(i + 1) * ldc].iter().all(|v| v.is_nan()), "wrote past the valid columns");
        }
        // Every way a panel can come: in place (consecutive), and packed across a row end and ragged.
        let consecutive = |p: &[usize]| p.len() == NR && p.windows(2).all(|w| w[1] == w[0] + 1);
        let panels: Vec<bool> = column_offsets.chunks(NR).map(consecutive).collect();
        assert!(panels.contains(&true) && panels.contains(&false) && n % NR != 0);
    }

    #[test]
    fn gathered_b_packs_consecutive_strided_and_scattered_columns() {
        let src: Vec<f32> = (0..400).map(|i| i as f32).collect();
        let row_offsets = [0, 37, 150, 201];
        // Panels: consecutive, every other, a row break inside each half, then a ragged tail.
        let column_offsets: Vec<usize> = [(0..8).collect::<Vec<_>>(), (0..16).step_by(2).collect(), vec![0, 1, 2, 20, 21, 22, 23, 60], vec![5, 7, 9]].concat();
        // A longer stale buffer: packing must overwrite (and shrink) it, zeros in the ragged tail included.
        let mut dst = vec![f32::NAN; 1000];
        pack_b_gathered(&src, &row_offsets, &column_offsets, &mut dst);
        assert_eq!(dst.len(), 4 * row_offsets.len() * NR);
        for (panel, cols) in column_offsets.chunks(NR).enumerate() {
            for (kk, &row) in row_offsets.iter().enumerate() {
                for j in 0..NR {
                    let want = cols.get(j).map_or(0.0, |&c| src[row + c]);
                    assert_eq!(dst[(panel * row_offsets.len() + kk) * NR + j], want, "panel {panel} row {kk} column {j}");
                }
            }
        }
    }

    #[test]
    fn abt_accumulates_a_times_b_transposed_over_blocks() {
        // k large enough to span several reduction blocks.
        let (m, n, k) = (5, 3, 2 * B_BLOCK_FLOATS / 3 + 7);
        let lda = k + 1;
        let a: Vec<f32> = (0..m * lda).map(|i| ((i * 7 % 11) as f32) - 5.0).collect();
        // b (n x k) stored as src[j * k + p].
        let src: Vec<f32> = (0..n * k).map(|i| ((i * 5 % 13) as f32) * 0.5 - 3.0).collect();
        let n_offsets: Vec<usize> = (0..n).map(|j| j * k).collect();
        let k_offsets: Vec<usize> = (0..k).collect();
        let mut c = vec![1.0; m * n];
        gemm_abt_accumulate(&a, lda, m, &src, &n_offsets, &k_offsets, &mut c);
        for i in 0..m {
            for j in 0..n {
                let want: f64 = 1.0 + (0..k).map(|p| a[i * lda + p] as f64 * src[j * k + p] as f64).sum::<f64>();
                assert!((c[i * n + j] as f64 - want).abs() <= 1e-3 * want.abs().max(1.0), "({i},{j}) {} vs {want}", c[i * n + j]);
            }
        }
    }
}
