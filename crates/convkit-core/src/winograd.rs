//! Winograd F(m,3) convolution (Lavin & Gray) for size-3 kernels with stride 1, in 1-D and 2-D.
//! Along each transformed axis a tile of m+2 inputs becomes m+2 transformed values (B^T d), the 3
//! kernel taps likewise (G g), and m outputs come back from their elementwise products (A^T m).
//! Summing those products over input channels makes one GEMM [Cout x Cin] x [Cin x tiles] per
//! transformed position ((m+2)^2 in 2-D), run on the packed microkernel. Dilation d runs as d
//! undilated phases per axis of the padded image, read and written in place through strides.
//! Transforms work on four tiles at once, one per `F32x4` lane, so their results are whole vectors
//! of a packed GEMM panel (NR tiles wide) and the GEMM results are read back four tiles at a time.

use crate::geometry::ConvGeometry;
use crate::gemm::{gemm_packed, MR, NR};
use crate::plan::WinogradTile;
use crate::simd::{F32x4, LANES};

/// Most values a tile has along one axis (F(4,3): 6).
const MAX_T: usize = 6;
/// Most outputs a tile has along one axis.
const MAX_M: usize = 4;

type Column = [F32x4; MAX_T];

/// One axis' input and output transforms; `T` inputs and `M` outputs per tile.
trait Axis {
    const T: usize;
    const M: usize;
    /// `B^T d` in place on the first `T` values.
    fn input(d: &mut Column);
    /// `A^T m`: the first `M` outputs from `T` values.
    fn output(m: &Column) -> [F32x4; MAX_M];
    /// `G g`: `T` values from the kernel's taps along this axis (3, or 1 for `Point`).
    fn kernel(g: &[F32x4; 3]) -> Column;
}

/// F(2,3).
struct F23;
/// F(4,3).
struct F43;
/// The height of a 1-D convolution lifted to 2-D: one value, nothing to transform.
struct Point;

impl Axis for F23 {
    const T: usize = 4;
    const M: usize = 2;
    #[inline(always)]
    fn input(d: &mut Column) {
        let [d0, d1, d2, d3, ..] = *d;
        d[0] = d0.sub(d2);
        d[1] = d1.add(d2);
        d[2] = d2.sub(d1);
        d[3] = d1.sub(d3);
    }
    #[inline(always)]
    fn output(m: &Column) -> [F32x4; MAX_M] {
        let [m0, m1, m2, m3, ..] = *m;
        [m0.add(m1).add(m2), m1.sub(m2).sub(m3), F32x4::zero(), F32x4::zero()]
    }
    #[inline(always)]
    fn kernel(g: &[F32x4; 3]) -> Column {
        let [g0, g1, g2] = *g;
        let half = F32x4::splat(0.5);
        let (even, odd) = (half.mul(g0.add(g2)), half.mul(g1));
        [g0, even.add(odd), even.sub(odd), g2, F32x4::zero(), F32x4::zero()]
    }
}

impl Axis for F43 {
    const T: usize = 6;
    const M: usize = 4;
    #[inline(always)]
    fn input(d: &mut Column) {
        let [d0, d1, d2, d3, d4, d5] = *d;
        let (two, four, five) = (F32x4::splat(2.0), F32x4::splat(4.0), F32x4::splat(5.0));
        let a = d4.sub(four.mul(d2));
        let b = d3.sub(four.mul(d1));
        let c = d4.sub(d2);
        let e = two.mul(d3.sub(d1));
        d[0] = d4.mul_add(four, d0).sub(five.mul(d2));
        d[1] = a.add(b);
        d[2] = a.sub(b);
        d[3] = c.add(e);
        d[4] = c.sub(e);
        d[5] = d5.mul_add(four, d1).sub(five.mul(d3));
    }
    #[inline(always)]
    fn output(m: &Column) -> [F32x4; MAX_M] {
        let [m0, m1, m2, m3, m4, m5] = *m;
        let (p, q, r, s) = (m1.add(m2), m1.sub(m2), m3.add(m4), m3.sub(m4));
        [
            m0.add(p).add(r),
            q.mul_add(F32x4::splat(2.0), s),
            p.mul_add(F32x4::splat(4.0), r),
            q.mul_add(F32x4::splat(8.0), s).add(m5),
        ]
    }
    #[inline(always)]
    fn kernel(g: &[F32x4; 3]) -> Column {
        let [g0, g1, g2] = *g;
        let sixth = F32x4::splat(1.0 / 6.0);
        let (even, odd) = (sixth.mul(g0.add(g2)), sixth.mul(g1));
        let a = F32x4::splat(1.0 / 24.0).mul(g0).add(sixth.mul(g2));
        let b = F32x4::splat(1.0 / 12.0).mul(g1);
        [
            F32x4::splat(0.25).mul(g0),
            F32x4::zero().sub(even.add(odd)),
            odd.sub(even),
            a.add(b),
            a.sub(b),
            g2,
        ]
    }
}

impl Axis for Point {
    const T: usize = 1;
    const M: usize = 1;
    #[inline(always)]
    fn input(_: &mut Column) {}
    #[inline(always)]
    fn output(m: &Column) -> [F32x4; MAX_M] {
        [m[0], F32x4::zero(), F32x4::zero(), F32x4::zero()]
    }
    #[inline(always)]
    fn kernel(g: &[F32x4; 3]) -> Column {
        let zero = F32x4::zero();
        [g[0], zero, zero, zero, zero, zero]
    }
}

/// Transformed weights `G g G^T` (in 1-D `G g`), computed once per weight and kept apart from
/// execution so they can be reused: per group and transformed position, the `[Cout/g x Cin/g]`
/// matrix in `pack_a`'s layout.
pub struct WinogradWeights {
    pub tile: WinogradTile,
    positions: usize,
    matrix_len: usize,
    packed: Vec<f32>,
}

impl WinogradWeights {
    /// `weight` is `[Cout, Cin/groups, (3,) 3]`, already flipped when the call flips.
    pub fn new(g: &ConvGeometry, tile: WinogradTile, weight: &[f32]) -> Self {
        match (g.spatial_dims, tile) {
            (1, WinogradTile::F2) => Self::transform::<Point, F23>(g, tile, weight),
            (1, WinogradTile::F4) => Self::transform::<Point, F43>(g, tile, weight),
            (_, WinogradTile::F2) => Self::transform::<F23, F23>(g, tile, weight),
            (_, WinogradTile::F4) => Self::transform::<F43, F43>(g, tile, weight),
        }
    }

    /// Four output channels per vector: the rows of one `pack_a` panel, written straight in its
    /// layout (`[row panel][cin][MR]`); rows past `Cout/groups` stay zero.
    fn transform<H: Axis, W: Axis>(g: &ConvGeometry, tile: WinogradTile, weight: &[f32]) -> Self {
        let (kh, kw) = (g.kernel[1], g.kernel[2]);
        let taps = kh * kw;
        let (cin_g, cout_g) = (g.in_channels_per_group(), g.out_channels_per_group());
        let positions = H::T * W::T;
        let matrix_len = cout_g.div_ceil(MR) * MR * cin_g;
        let mut packed = vec![0.0; g.groups * positions * matrix_len];
        for group in 0..g.groups {
            for panel in 0..cout_g.div_ceil(MR) {
                let rows = MR.min(cout_g - panel * MR);
                for ci in 0..cin_g {
                    let tap = |t: usize| {
                        F32x4::from_array(std::array::from_fn(|r| {
                            let co = group * cout_g + panel * MR + r;
                            if r < rows { weight[(co * cin_g + ci) * taps + t] } else { 0.0 }
                        }))
                    };
                    // G along W on each kernel row, then G along H on each column.
                    let mut u = [[F32x4::zero(); MAX_T]; 3];
                    for (a, row) in u.iter_mut().enumerate().take(kh) {
                        *row = W::kernel(&[tap(a * kw), tap(a * kw + 1), tap(a * kw + 2)]);
                    }
                    let offset = (panel * cin_g + ci) * MR;
                    for j in 0..W::T {
                        let column = H::kernel(&[u[0][j], u[1][j], u[2][j]]);
                        for (i, v) in column.iter().enumerate().take(H::T) {
                            v.store(&mut packed[(group * positions + i * W::T + j) * matrix_len + offset..]);
                        }
                    }
                }
            }
        }
        WinogradWeights { tile, positions, matrix_len, packed }
    }

    /// Floats held.
    pub fn len(&self) -> usize {
        self.packed.len()
    }

    fn matrix(&self, group: usize, position: usize) -> &[f32] {
        &self.packed[(group * self.positions + position) * self.matrix_len..][..self.matrix_len]
    }
}

/// One tile: where it starts in a padded plane and in an output plane, and how many of its input
/// rows/columns lie inside the padded image and output rows/columns inside the output.
#[derive(Clone, Copy)]
struct Tile {
    src: usize,
    dst: usize,
    in_rows: usize,
    in_cols: usize,
    out_rows: usize,
    out_cols: usize,
}

/// Tiles along one axis of `out` outputs with dilation `d`: (first row, valid inputs, valid
/// outputs) per tile, phase by phase. Output row `r + d*j` reads padded rows `r + d*(j + tap)`, so a
/// tile starts at the same row in the padded input and in the output.
fn axis_tiles(out: usize, d: usize, m: usize, t: usize) -> Vec<(usize, usize, usize)> {
    let mut tiles = Vec::new();
    for r in 0..d.min(out) {
        let phase_out = (out - r).div_ceil(d);
        for j in (0..phase_out).step_by(m) {
            tiles.push((r + d * j, t.min(phase_out + t - m - j), m.min(phase_out - j)));
        }
    }
    tiles
}

fn tile_list<H: Axis, W: Axis>(g: &ConvGeometry) -> Vec<Tile> {
    let [_, _, pw] = g.padded_size();
    let [_, oh, ow] = g.out_size;
    let cols = axis_tiles(ow, g.dilation[2], W::M, W::T);
    let mut tiles = Vec::new();
    for (row, in_rows, out_rows) in axis_tiles(oh, g.dilation[1], H::M, H::T) {
        for &(col, in_cols, out_cols) in &cols {
            tiles.push(Tile { src: row * pw + col, dst: row * ow + col, in_rows, in_cols, out_rows, out_cols });
        }
    }
    tiles
}

/// Reusable buffers of one convolution: transformed input tiles and the GEMM results.
#[derive(Default)]
pub struct WinogradScratch {
    transformed: Vec<f32>,
    products: Vec<f32>,
}

impl WinogradScratch {
    /// Floats held.
    pub fn len(&self) -> usize {
        self.transformed.capacity() + self.products.capacity()
    }
}

/// Runs a Winograd convolution of one padded image (`[Cin, PH, PW]`) into `out` (`[Cout, OH, OW]`),
/// `tile_block` tiles (a multiple of NR) at a time.
pub fn winograd(
    g: &ConvGeometry,
    tile_block: usize,
    padded: &[f32],
    weights: &WinogradWeights,
    bias: Option<&[f32]>,
    out: &mut [f32],
    scratch: &mut WinogradScratch,
) {
    match (g.spatial_dims, weights.tile) {
        (1, WinogradTile::F2) => run::<Point, F23>(g, tile_block, padded, weights, bias, out, scratch),
        (1, WinogradTile::F4) => run::<Point, F43>(g, tile_block, padded, weights, bias, out, scratch),
        (_, WinogradTile::F2) => run::<F23, F23>(g, tile_block, padded, weights, bias, out, scratch),
        (_, WinogradTile::F4) => run::<F43, F43>(g, tile_block, padded, weights, bias, out, scratch),
    }
}

fn run<H: Axis, W: Axis>(
    g: &ConvGeometry,
    tile_block: usize,
    padded: &[f32],
    weights: &WinogradWeights,
    bias: Option<&[f32]>,
    out: &mut [f32],
    scratch: &mut WinogradScratch,
) {
    debug_assert_eq!(tile_block % NR, 0);
    let [_, _, pw] = g.padded_size();
    let padded_plane = g.padded_size().iter().product::<usize>();
    let ow = g.out_size[2];
    let out_plane = g.out_plane();
    let (cin_g, cout_g) = (g.in_channels_per_group(), g.out_channels_per_group());
    let in_steps = (g.dilation[1] * pw, g.dilation[2]);
    let out_steps = (g.dilation[1] * ow, g.dilation[2]);
    let positions = H::T * W::T;
    // One position's packed B: tile_block / NR panels of [cin_g][NR].
    let b_len = tile_block * cin_g;
    let c_len = cout_g * tile_block;
    scratch.transformed.resize(positions * b_len, 0.0);
    scratch.products.resize(positions * c_len, 0.0);
    let tiles = tile_list::<H, W>(g);
    for group in 0..g.groups {
        let src = &padded[group * cin_g * padded_plane..][..cin_g * padded_plane];
        let out_g = &mut out[group * cout_g * out_plane..][..cout_g * out_plane];
        for block in tiles.chunks(tile_block) {
            for (ci, plane) in src.chunks_exact(padded_plane).enumerate() {
                for (quad_index, quad) in block.chunks(LANES).enumerate() {
                    let mut d = gather::<H, W>(plane, quad, in_steps);
                    transform_input::<H, W>(&mut d);
                    let t0 = quad_index * LANES;
                    let offset = (t0 / NR * cin_g + ci) * NR + t0 % NR;
                    for i in 0..H::T {
                        for j in 0..W::T {
                            d[i][j].store(&mut scratch.transformed[(i * W::T + j) * b_len + offset..]);
                        }
                    }
                }
            }
            for x in 0..positions {
                let b = &scratch.transformed[x * b_len..][..b_len];
                let c = &mut scratch.products[x * c_len..][..c_len];
                gemm_packed(cout_g, block.len(), cin_g, weights.matrix(group, x), b, None, c, tile_block);
            }
            for (co, out_c) in out_g.chunks_exact_mut(out_plane).enumerate() {
                let bias_v = F32x4::splat(bias.map_or(0.0, |b| b[group * cout_g + co]));
                for (quad_index, quad) in block.chunks(LANES).enumerate() {
                    let row = co * tile_block + quad_index * LANES;
                    let mut m = [[F32x4::zero(); MAX_T]; MAX_T];
                    for i in 0..H::T {
                        for j in 0..W::T {
                            m[i][j] = F32x4::load(&scratch.products[(i * W::T + j) * c_len + row..]);
                        }
                    }
                    let y = transform_output::<H, W>(&m, bias_v);
                    scatter::<H, W>(out_c, quad, &y, out_steps);
                }
            }
        }
    }
}

/// The input patches of up to four tiles of one channel, tile `l` in lane `l`; values outside the
/// padded image (ragged last tiles, missing tiles) are zero.
#[inline(always)]
fn gather<H: Axis, W: Axis>(plane: &[f32], quad: &[Tile], (row_step, col_step): (usize, usize)) -> [Column; MAX_T] {
    let mut d = [[F32x4::zero(); MAX_T]; MAX_T];
    if quad.len() == LANES && quad.iter().all(|t| t.in_rows == H::T && t.in_cols == W::T) {
        // Four whole tiles, the common case: each lane's patch is bounds-checked once.
        let extent = (H::T - 1) * row_step + (W::T - 1) * col_step + 1;
        let lanes: [&[f32]; LANES] = std::array::from_fn(|l| &plane[quad[l].src..][..extent]);
        for (i, row) in d.iter_mut().enumerate().take(H::T) {
            for (j, value) in row.iter_mut().enumerate().take(W::T) {
                let o = i * row_step + j * col_step;
                // SAFETY: o <= (H::T - 1) * row_step + (W::T - 1) * col_step < extent, each lane's length.
                *value = F32x4::from_array(std::array::from_fn(|l| unsafe { *lanes[l].get_unchecked(o) }));
            }
        }
        return d;
    }
    let mut patch = [[[0.0f32; LANES]; MAX_T]; MAX_T];
    for (l, t) in quad.iter().enumerate() {
        let src = &plane[t.src..];
        for (i, patch_row) in patch.iter_mut().enumerate().take(t.in_rows) {
            let row = &src[i * row_step..];
            for (j, value) in patch_row.iter_mut().enumerate().take(t.in_cols) {
                value[l] = row[j * col_step];
            }
        }
    }
    for i in 0..H::T {
        for j in 0..W::T {
            d[i][j] = F32x4::from_array(patch[i][j]);
        }
    }
    d
}

/// `B^T d B`: the W transform on every row, then the H transform on every column.
#[inline(always)]
fn transform_input<H: Axis, W: Axis>(d: &mut [Column; MAX_T]) {
    for row in d.iter_mut().take(H::T) {
        W::input(row);
    }
    for j in 0..W::T {
        let mut column = [F32x4::zero(); MAX_T];
        for i in 0..H::T {
            column[i] = d[i][j];
        }
        H::input(&mut column);
        for i in 0..H::T {
            d[i][j] = column[i];
        }
    }
}

/// `A^T m A + bias`: the H transform on every column, then the W transform on every row.
#[inline(always)]
fn transform_output<H: Axis, W: Axis>(m: &[Column; MAX_T], bias: F32x4) -> [[F32x4; MAX_M]; MAX_M] {
    let mut rows = [[F32x4::zero(); MAX_T]; MAX_M];
    for j in 0..W::T {
        let mut column = [F32x4::zero(); MAX_T];
        for i in 0..H::T {
            column[i] = m[i][j];
        }
        let y = H::output(&column);
        for r in 0..H::M {
            rows[r][j] = y[r];
        }
    }
    let mut y = [[F32x4::zero(); MAX_M]; MAX_M];
    for r in 0..H::M {
        let out = W::output(&rows[r]);
        for c in 0..W::M {
            y[r][c] = out[c].add(bias);
        }
    }
    y
}

/// Writes the valid outputs of up to four tiles (lane `l` holds tile `l`).
#[inline(always)]
fn scatter<H: Axis, W: Axis>(out: &mut [f32], quad: &[Tile], y: &[[F32x4; MAX_M]; MAX_M], (row_step, col_step): (usize, usize)) {
    let mut lanes = [[[0.0f32; LANES]; MAX_M]; MAX_M];
    for r in 0..H::M {
        for c in 0..W::M {
            y[r][c].store(&mut lanes[r][c]);
        }
    }
    if quad.len() == LANES && quad.iter().all(|t| t.out_rows == H::M && t.out_cols == W::M) {
        // Four whole tiles, the common case: each lane's extent is bounds-checked once.
        let extent = (H::M - 1) * row_step + (W::M - 1) * col_step + 1;
        assert!(quad.iter().all(|t| t.dst + extent <= out.len()));
        for (r, lane_row) in lanes.iter().enumerate().take(H::M) {
            for (c, values) in lane_row.iter().enumerate().take(W::M) {
                let o = r * row_step + c * col_step;
                for (t, &v) in quad.iter().zip(values) {
                    // SAFETY: o < extent and t.dst + extent <= out.len(), checked above.
                    unsafe { *out.get_unchecked_mut(t.dst + o) = v };
                }
            }
        }
        return;
    }
    for (l, t) in quad.iter().enumerate() {
        let dst = &mut out[t.dst..];
        for (r, lane_row) in lanes.iter().enumerate().take(t.out_rows) {
            let row = &mut dst[r * row_step..];
            for (c, value) in lane_row.iter().enumerate().take(t.out_cols) {
                row[c * col_step] = value[l];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conv::execute;
    use crate::geometry::ConvParams;
    use crate::padding::PaddingMode;
    use crate::plan::{plan_conv, Algorithm, ConvPlan};
    use crate::reference::conv_reference;
    use crate::test_data::{uniform, MODES};

    /// Deterministic N(0, 1) values (Box-Muller over `uniform`).
    fn normal(n: usize, seed: u64) -> Vec<f32> {
        let u = uniform(2 * n, seed);
        u.chunks_exact(2)
            .map(|p| {
                let (a, b) = ((p[0] as f64 + 1.0) / 2.0, (p[1] as f64 + 1.0) / 2.0);
                ((-2.0 * (1.0 - a).ln()).sqrt() * (std::f64::consts::TAU * b).cos()) as f32
            })
            .collect()
    }

    /// One convolution checked against the f64 reference; a new case is one builder line.
    #[derive(Clone)]
    struct Case {
        input: Vec<usize>,
        weight: Vec<usize>,
        params: ConvParams,
        bias: bool,
    }

    fn case(input: &[usize], weight: &[usize]) -> Case {
        Case { input: input.to_vec(), weight: weight.to_vec(), params: ConvParams::new(input.len() - 2), bias: false }
    }

    impl Case {
        fn groups(mut self, groups: usize) -> Self {
            self.params.groups = groups;
            self
        }
        fn dilation(mut self, d: &[usize]) -> Self {
            self.params.dilation = d.to_vec();
            self
        }
        fn padding(mut self, before: &[usize], after: &[usize], mode: PaddingMode) -> Self {
            self.params.pad_before = before.to_vec();
            self.params.pad_after = after.to_vec();
            self.params.padding_mode = mode;
            self
        }
        fn flip(mut self) -> Self {
            self.params.flip = true;
            self
        }
        fn bias(mut self) -> Self {
            self.bias = true;
            self
        }

        /// Largest |winograd - reference| over the largest |reference|, for `tile` with the planned
        /// tile block and with the smallest one (many blocks).
        fn relative_error(&self, tile: WinogradTile) -> f64 {
            let g = ConvGeometry::new(&self.input, &self.weight, self.bias.then_some(self.weight[0]), &self.params).unwrap();
            let x = uniform(g.input_len(), 1);
            let w = uniform(g.weight_len(), 2);
            let b = self.bias.then(|| uniform(g.out_channels, 3));
            let want = conv_reference(&x, &self.input, &w, &self.weight, b.as_deref(), &self.params);
            let ConvPlan::Winograd { tile_block, .. } = plan_conv(&g, Algorithm::Winograd).unwrap() else { panic!() };
            let scale = want.iter().fold(0.0f64, |m, &v| m.max(v.abs() as f64)).max(1e-6);
            let mut worst = 0.0f64;
            for block in [tile_block, NR] {
                let mut got = vec![f32::NAN; g.output_len()];
                execute(&g, &ConvPlan::Winograd { tile, tile_block: block }, &x, &w, b.as_deref(), &mut got);
                for (a, e) in got.iter().zip(&want) {
                    let err = (*a as f64 - *e as f64).abs() / scale;
                    assert!(err.is_finite(), "{tile:?} block {block}: {} vs {e} for {:?} {:?}", a, self.input, self.weight);
                    worst = worst.max(err);
                }
            }
            worst
        }

        fn check(&self) {
            for (tile, tolerance) in [(WinogradTile::F2, 2e-6), (WinogradTile::F4, 2e-5)] {
                let err = self.relative_error(tile);
                assert!(err <= tolerance, "{tile:?} relative error {err:e} for {:?} {:?} {:?}", self.input, self.weight, self.params);
            }
        }
    }

    #[test]
    fn matches_the_reference_on_2d_shapes() {
        use PaddingMode::*;
        case(&[1, 3, 8, 8], &[5, 3, 3, 3]).check();
        // Ragged last tiles in both directions, batch 2, bias.
        case(&[2, 5, 11, 13], &[6, 5, 3, 3]).bias().check();
        case(&[1, 4, 3, 3], &[4, 4, 3, 3]).check();
        case(&[1, 2, 3, 30], &[3, 2, 3, 3]).check();
        case(&[1, 17, 9, 10], &[9, 17, 3, 3]).padding(&[1, 1], &[1, 1], Zeros).bias().check();
        case(&[1, 4, 9, 10], &[8, 2, 3, 3]).groups(2).bias().check();
        case(&[1, 6, 7, 7], &[6, 2, 3, 3]).groups(3).flip().check();
        case(&[1, 3, 10, 9], &[4, 3, 3, 3]).flip().padding(&[1, 2], &[2, 0], Reflect).check();
        for mode in MODES {
            case(&[1, 3, 9, 7], &[4, 3, 3, 3]).padding(&[1, 1], &[1, 1], mode).check();
        }
    }

    #[test]
    fn matches_the_reference_with_dilation_by_phases() {
        use PaddingMode::*;
        case(&[1, 3, 14, 15], &[4, 3, 3, 3]).dilation(&[2, 2]).padding(&[2, 2], &[2, 2], Zeros).bias().check();
        case(&[1, 3, 16, 13], &[4, 3, 3, 3]).dilation(&[3, 3]).check();
        case(&[1, 2, 12, 17], &[3, 2, 3, 3]).dilation(&[2, 3]).padding(&[2, 3], &[1, 3], Reflect).check();
        // Fewer outputs than phases on one axis: some phases are empty.
        case(&[1, 2, 7, 9], &[2, 2, 3, 3]).dilation(&[3, 1]).check();
        case(&[1, 4, 11, 11], &[4, 2, 3, 3]).dilation(&[2, 2]).groups(2).flip().padding(&[2, 2], &[2, 2], Circular).check();
    }

    #[test]
    fn matches_the_reference_in_1d() {
        use PaddingMode::*;
        case(&[1, 3, 20], &[5, 3, 3]).check();
        case(&[2, 4, 3], &[2, 4, 3]).bias().check();
        case(&[1, 6, 23], &[4, 3, 3]).groups(2).flip().padding(&[2], &[0], Zeros).check();
        case(&[1, 3, 25], &[3, 3, 3]).dilation(&[2]).padding(&[2], &[2], Replicate).check();
        case(&[1, 2, 30], &[2, 2, 3]).dilation(&[4]).padding(&[3], &[1], Symmetric).bias().check();
    }

    #[test]
    fn weights_are_transformed_once_per_group_and_position() {
        let g = ConvGeometry::new(&[1, 4, 8, 8], &[6, 2, 3, 3], None, &{
            let mut p = ConvParams::new(2);
            p.groups = 2;
            p
        })
        .unwrap();
        let w = WinogradWeights::new(&g, WinogradTile::F4, &uniform(g.weight_len(), 5));
        // 2 groups x 36 positions x (3 rows padded to one 4-row panel) x 2 input channels.
        assert_eq!(w.packed.len(), 2 * 36 * 4 * 2);
        // Position (0, 0) is g[0][0] / 16: G's first row is (1/4, 0, 0) on both axes.
        let weight = uniform(g.weight_len(), 5);
        assert!((w.matrix(1, 0)[0] - weight[3 * 2 * 9] / 16.0).abs() < 1e-7);
    }

    /// Accuracy on a realistic layer (64->64 3x3 p1, 56x56, N(0,1) input, Kaiming-normal weights)
    /// against the f64 reference; the figures documented in README. Run with
    /// `cargo test --release -p convkit-core -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn accuracy_on_a_realistic_layer() {
        let (input, weight) = ([1, 64, 56, 56], [64, 64, 3, 3]);
        for dilation in [1, 2] {
            let mut p = ConvParams::new(2);
            p.pad_before = vec![dilation; 2];
            p.pad_after = vec![dilation; 2];
            p.dilation = vec![dilation; 2];
            let g = ConvGeometry::new(&input, &weight, None, &p).unwrap();
            let x = normal(g.input_len(), 7);
            let std = (2.0 / (64.0 * 9.0) as f32).sqrt();
            let w: Vec<f32> = normal(g.weight_len(), 8).iter().map(|v| v * std).collect();
            let want = conv_reference(&x, &input, &w, &weight, None, &p);
            let rms = (want.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / want.len() as f64).sqrt();
            let report = |name: &str, plan: ConvPlan| {
                let mut got = vec![0.0; g.output_len()];
                execute(&g, &plan, &x, &w, None, &mut got);
                let (mut max_abs, mut max_rel) = (0.0f64, 0.0f64);
                for (a, e) in got.iter().zip(&want) {
                    let err = (*a as f64 - *e as f64).abs();
                    max_abs = max_abs.max(err);
                    max_rel = max_rel.max(err / (e.abs() as f64).max(rms));
                }
                println!("dilation {dilation} {name}: max abs {max_abs:.2e}, max abs / max(|ref|, rms {rms:.2}) {max_rel:.2e}");
                max_abs
            };
            let im2col = report("im2col", plan_conv(&g, Algorithm::Im2col).unwrap());
            let f2 = report("F(2x2,3x3)", ConvPlan::Winograd { tile: WinogradTile::F2, tile_block: 64 });
            let f4 = report("F(4x4,3x3)", ConvPlan::Winograd { tile: WinogradTile::F4, tile_block: 64 });
            assert!(im2col < 1e-4 && f2 < 1e-4 && f4 < 1e-3, "{im2col} {f2} {f4}");
        }
    }
}
