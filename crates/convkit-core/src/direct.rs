//! Register-blocked direct convolution. Each output channel is computed in tiles of `R` output rows
//! by `V` vectors; a tile's accumulators stay in registers over every input channel and kernel tap,
//! each weight is splatted once per tap, and each loaded input vector serves every row of the tile
//! that reads it. Callers pick the tile shape and may pass a `Window` of constants so the tap loops
//! unroll (`depthwise.rs` does, for small kernels).

use crate::geometry::ConvGeometry;
use crate::simd::{F32x4, LANES};

/// The sliding window over the last two axes; the depth axis is summed as extra input planes.
/// A trait so that windows known at compile time (`Fixed`, `Unit`) make every tap loop a constant
/// loop in the monomorphized kernels, whatever the inliner decides.
pub(crate) trait Window: Copy {
    fn kh(self) -> usize;
    fn kw(self) -> usize;
    fn sh(self) -> usize;
    fn sw(self) -> usize;
    fn dh(self) -> usize;
    fn dw(self) -> usize;
}

/// Any window, read from the geometry.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Runtime {
    kh: usize,
    kw: usize,
    sh: usize,
    sw: usize,
    dh: usize,
    dw: usize,
}

impl Runtime {
    pub(crate) fn of(g: &ConvGeometry) -> Self {
        Runtime { kh: g.kernel[1], kw: g.kernel[2], sh: g.stride[1], sw: g.stride[2], dh: g.dilation[1], dw: g.dilation[2] }
    }
}

impl Window for Runtime {
    fn kh(self) -> usize {
        self.kh
    }
    fn kw(self) -> usize {
        self.kw
    }
    fn sh(self) -> usize {
        self.sh
    }
    fn sw(self) -> usize {
        self.sw
    }
    fn dh(self) -> usize {
        self.dh
    }
    fn dw(self) -> usize {
        self.dw
    }
}

/// A `K x K` window at stride `S`, undilated.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fixed<const K: usize, const S: usize>;

impl<const K: usize, const S: usize> Window for Fixed<K, S> {
    fn kh(self) -> usize {
        K
    }
    fn kw(self) -> usize {
        K
    }
    fn sh(self) -> usize {
        S
    }
    fn sw(self) -> usize {
        S
    }
    fn dh(self) -> usize {
        1
    }
    fn dw(self) -> usize {
        1
    }
}

/// Any kernel size at stride 1, undilated.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Unit {
    kh: usize,
    kw: usize,
}

impl Window for Unit {
    fn kh(self) -> usize {
        self.kh
    }
    fn kw(self) -> usize {
        self.kw
    }
    fn sh(self) -> usize {
        1
    }
    fn sw(self) -> usize {
        1
    }
    fn dh(self) -> usize {
        1
    }
    fn dw(self) -> usize {
        1
    }
}

/// Input rows a tile of `R` output rows is read from, and for row `j` of them the kernel row that
/// output row `r` applies to it (`None` when it does not read it). Tiles of several rows need
/// dilation 1 along h so that their input rows are contiguous.
#[inline(always)]
fn rows_read<W: Window, const R: usize>(win: W) -> usize {
    if R == 1 {
        win.kh()
    } else {
        (R - 1) * win.sh() + win.kh()
    }
}

#[inline(always)]
fn kernel_row<W: Window, const R: usize>(win: W, j: usize, r: usize) -> Option<usize> {
    let t = if R == 1 { j } else { j.wrapping_sub(r * win.sh()) };
    (t < win.kh()).then_some(t)
}

#[inline(always)]
fn row_offset<W: Window, const R: usize>(win: W, j: usize) -> usize {
    if R == 1 {
        j * win.dh()
    } else {
        j
    }
}

/// `s[i + l * stride]` for lanes `l` 0 to 3, the inputs of four outputs along a row.
///
/// # Safety
/// `i + 3 * stride < s.len()`.
#[inline(always)]
unsafe fn load_strided(s: &[f32], i: usize, stride: usize) -> F32x4 {
    match stride {
        1 => F32x4::load_unchecked(s, i),
        2 => F32x4::load_even_unchecked(s, i),
        _ => F32x4::gather(&s[i..], stride),
    }
}

/// One input plane of the sum: where it starts in the padded image and where its kernel taps start
/// in the output channel's weights.
type Plane = (usize, usize);

/// Computes outputs `[oh, oh + R) x [ow, ow + 4V)` of one output plane (`ow_n` wide).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn tile<W: Window, const R: usize, const V: usize>(
    win: W,
    src: &[f32],
    pw: usize,
    planes: &[Plane],
    weight: &[f32],
    bias: f32,
    out: &mut [f32],
    ow_n: usize,
    oh: usize,
    ow: usize,
) {
    let mut acc = [[F32x4::splat(bias); V]; R];
    for &(plane, taps) in planes {
        let w = &weight[taps..][..win.kh() * win.kw()];
        let base = plane + oh * win.sh() * pw + ow * win.sw();
        let rows = rows_read::<W, R>(win);
        // The furthest element the loads below read; checked once so the loads need no checks.
        let last = base + row_offset::<W, R>(win, rows - 1) * pw + (win.kw() - 1) * win.dw() + (V * LANES - 1) * win.sw();
        assert!(last < src.len());
        for j in 0..rows {
            let row = base + row_offset::<W, R>(win, j) * pw;
            for k in 0..win.kw() {
                let at = row + k * win.dw();
                // SAFETY: the largest index read, `at + (V * LANES - 1) * sw`, is at most `last`.
                let x: [F32x4; V] = std::array::from_fn(|i| unsafe { load_strided(src, at + i * LANES * win.sw(), win.sw()) });
                for (r, acc_r) in acc.iter_mut().enumerate() {
                    if let Some(t) = kernel_row::<W, R>(win, j, r) {
                        let wv = F32x4::splat(w[t * win.kw() + k]);
                        for (a, &xv) in acc_r.iter_mut().zip(&x) {
                            *a = a.mul_add(wv, xv);
                        }
                    }
                }
            }
        }
    }
    for (r, acc_r) in acc.iter().enumerate() {
        for (i, a) in acc_r.iter().enumerate() {
            a.store(&mut out[(oh + r) * ow_n + ow + i * LANES..]);
        }
    }
}

/// Outputs `rows x [ow, ow_n)` one at a time, for rows narrower than a vector.
#[allow(clippy::too_many_arguments)]
fn scalar_tail<W: Window>(
    win: W,
    src: &[f32],
    pw: usize,
    planes: &[Plane],
    weight: &[f32],
    bias: f32,
    out: &mut [f32],
    ow_n: usize,
    rows: std::ops::Range<usize>,
    ow: usize,
) {
    for oh in rows {
        for ox in ow..ow_n {
            let mut acc = bias;
            for &(plane, taps) in planes {
                for t in 0..win.kh() {
                    let row = &src[plane + (oh * win.sh() + t * win.dh()) * pw + ox * win.sw()..];
                    for k in 0..win.kw() {
                        acc += weight[taps + t * win.kw() + k] * row[k * win.dw()];
                    }
                }
            }
            out[oh * ow_n + ox] = acc;
        }
    }
}

/// Output rows `[oh, oh + R)`: tiles of `4V` columns, then single vectors, then what is left.
#[inline(never)]
#[allow(clippy::too_many_arguments)]
fn row_band<W: Window, const R: usize, const V: usize>(
    win: W,
    src: &[f32],
    pw: usize,
    planes: &[Plane],
    weight: &[f32],
    bias: f32,
    out: &mut [f32],
    ow_n: usize,
    oh: usize,
) {
    let mut ow = 0;
    while ow + V * LANES <= ow_n {
        tile::<W, R, V>(win, src, pw, planes, weight, bias, out, ow_n, oh, ow);
        ow += V * LANES;
    }
    while V > 1 && ow + LANES <= ow_n {
        tile::<W, R, 1>(win, src, pw, planes, weight, bias, out, ow_n, oh, ow);
        ow += LANES;
    }
    if ow < ow_n && ow_n >= LANES {
        // A last vector overlapping the previous one: recomputing a few outputs costs less than
        // computing the leftover ones one at a time.
        tile::<W, R, 1>(win, src, pw, planes, weight, bias, out, ow_n, oh, ow_n - LANES);
    } else {
        scalar_tail(win, src, pw, planes, weight, bias, out, ow_n, oh..oh + R, ow);
    }
}

/// Runs the convolution of one padded image (`[Cin, ...padded_size]`), each output channel in
/// tiles of `R` rows by `V` vectors. `win` must describe `g`.
pub(crate) fn run<W: Window, const R: usize, const V: usize>(
    g: &ConvGeometry,
    win: W,
    padded: &[f32],
    weight: &[f32],
    bias: Option<&[f32]>,
    out: &mut [f32],
) {
    assert!(R == 1 || win.dh() == 1, "multi-row tiles need contiguous input rows");
    let (cin_g, cout_g) = (g.in_channels_per_group(), g.out_channels_per_group());
    let [_, ph, pw] = g.padded_size();
    let padded_plane = g.padded_size().iter().product::<usize>();
    let [od_n, oh_n, ow_n] = g.out_size;
    let (kd_n, kvol) = (g.kernel[0], g.kernel_volume());
    let mut planes = Vec::with_capacity(cin_g * kd_n);
    for group in 0..g.groups {
        for co in group * cout_g..(group + 1) * cout_g {
            let w = &weight[co * cin_g * kvol..][..cin_g * kvol];
            let b = bias.map_or(0.0, |b| b[co]);
            for od in 0..od_n {
                planes.clear();
                for ci in 0..cin_g {
                    for kd in 0..kd_n {
                        let z = od * g.stride[0] + kd * g.dilation[0];
                        planes.push(((group * cin_g + ci) * padded_plane + z * ph * pw, (ci * kd_n + kd) * win.kh() * win.kw()));
                    }
                }
                let out_2d = &mut out[(co * od_n + od) * oh_n * ow_n..][..oh_n * ow_n];
                let mut oh = 0;
                while oh + R <= oh_n {
                    row_band::<W, R, V>(win, padded, pw, &planes, w, b, out_2d, ow_n, oh);
                    oh += R;
                }
                while oh < oh_n {
                    row_band::<W, 1, V>(win, padded, pw, &planes, w, b, out_2d, ow_n, oh);
                    oh += 1;
                }
            }
        }
    }
}

/// The direct executor for any convolution: stride-1 undilated windows get two rows of sixteen
/// outputs per tile with the strides known at compile time; everything else one row of sixteen.
pub(crate) fn direct(g: &ConvGeometry, padded: &[f32], weight: &[f32], bias: Option<&[f32]>, out: &mut [f32]) {
    let win = Runtime::of(g);
    if (win.sh, win.sw, win.dh, win.dw) == (1, 1, 1, 1) {
        run::<_, 2, 4>(g, Unit { kh: win.kh, kw: win.kw }, padded, weight, bias, out)
    } else {
        run::<_, 1, 4>(g, win, padded, weight, bias, out)
    }
}
