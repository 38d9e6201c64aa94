//! Register-blocked direct convolution. Each output channel is computed in tiles of `R` output rows
//! by `V` vectors; a tile's accumulators stay in registers over every input channel and kernel tap,
//! each weight is splatted once per tap, and each loaded input vector serves every row of the tile
//! that reads it. Callers pick the tile shape and may pass a `Window` of constants so the tap loops
//! unroll (`depthwise.rs` does, for small kernels).

use crate::geometry::ConvGeometry;
use crate::padding::pad_image;
use crate::simd::{F32x4, LANES};

/// The sliding window over the last two axes; the depth axis is summed as extra input planes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Window {
    pub kh: usize,
    pub kw: usize,
    pub sh: usize,
    pub sw: usize,
    pub dh: usize,
    pub dw: usize,
}

impl Window {
    pub(crate) fn of(g: &ConvGeometry) -> Self {
        Window {
            kh: g.kernel[1],
            kw: g.kernel[2],
            sh: g.stride[1],
            sw: g.stride[2],
            dh: g.dilation[1],
            dw: g.dilation[2],
        }
    }
}

/// Input rows a tile of `R` output rows is read from, and for row `j` of them the kernel row that
/// output row `r` applies to it (`None` when it does not read it). Tiles of several rows need
/// dilation 1 along h so that their input rows are contiguous.
#[inline(always)]
fn rows_read<const R: usize>(win: Window) -> usize {
    if R == 1 {
        win.kh
    } else {
        (R - 1) * win.sh + win.kh
    }
}

#[inline(always)]
fn kernel_row<const R: usize>(win: Window, j: usize, r: usize) -> Option<usize> {
    let t = if R == 1 { j } else { j.wrapping_sub(r * win.sh) };
    (t < win.kh).then_some(t)
}

#[inline(always)]
fn row_offset<const R: usize>(win: Window, j: usize) -> usize {
    if R == 1 {
        j * win.dh
    } else {
        j
    }
}

/// Four outputs' inputs along a row read with stride `stride`.
#[inline(always)]
fn load_strided(s: &[f32], stride: usize) -> F32x4 {
    match stride {
        1 => F32x4::load(s),
        2 => F32x4::load_even(s),
        _ => F32x4::gather(s, stride),
    }
}

/// One input plane of the sum: where it starts in the padded group and where its kernel taps start
/// in the output channel's weights.
type Plane = (usize, usize);

/// Computes outputs `[oh, oh + R) x [ow, ow + 4V)` of one output plane (`ow_n` wide).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn tile<const R: usize, const V: usize>(
    win: Window,
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
        let w = &weight[taps..][..win.kh * win.kw];
        let base = plane + oh * win.sh * pw + ow * win.sw;
        for j in 0..rows_read::<R>(win) {
            let row = base + row_offset::<R>(win, j) * pw;
            for k in 0..win.kw {
                let at = row + k * win.dw;
                let x: [F32x4; V] = std::array::from_fn(|i| load_strided(&src[at + i * LANES * win.sw..], win.sw));
                for (r, acc_r) in acc.iter_mut().enumerate() {
                    if let Some(t) = kernel_row::<R>(win, j, r) {
                        let wv = F32x4::splat(w[t * win.kw + k]);
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

/// Outputs `rows x [ow, ow_n)` one at a time: the columns left over after the vector tiles.
#[allow(clippy::too_many_arguments)]
fn scalar_tail(
    win: Window,
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
                for t in 0..win.kh {
                    let row = &src[plane + (oh * win.sh + t * win.dh) * pw + ox * win.sw..];
                    for k in 0..win.kw {
                        acc += weight[taps + t * win.kw + k] * row[k * win.dw];
                    }
                }
            }
            out[oh * ow_n + ox] = acc;
        }
    }
}

/// Output rows `[oh, oh + R)`: tiles of `4V` columns, then single vectors, then single outputs.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn row_band<const R: usize, const V: usize>(
    win: Window,
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
        tile::<R, V>(win, src, pw, planes, weight, bias, out, ow_n, oh, ow);
        ow += V * LANES;
    }
    while V > 1 && ow + LANES <= ow_n {
        tile::<R, 1>(win, src, pw, planes, weight, bias, out, ow_n, oh, ow);
        ow += LANES;
    }
    scalar_tail(win, src, pw, planes, weight, bias, out, ow_n, oh..oh + R, ow);
}

/// Runs the convolution of one image (`[Cin, ...in_size]`, unpadded) a group at a time: the
/// group's channels are padded into `padded` (one group is small enough to stay in cache, unlike a
/// padded copy of the whole image), then each output channel of the group is computed in tiles of
/// `R` rows by `V` vectors. `win` must describe `g` (the caller may pass it as constants).
#[inline(always)]
pub(crate) fn run<const R: usize, const V: usize>(
    g: &ConvGeometry,
    win: Window,
    image: &[f32],
    weight: &[f32],
    bias: Option<&[f32]>,
    out: &mut [f32],
    padded: &mut Vec<f32>,
) {
    assert!(R == 1 || win.dh == 1, "multi-row tiles need contiguous input rows");
    let (cin_g, cout_g) = (g.in_channels_per_group(), g.out_channels_per_group());
    let [_, ph, pw] = g.padded_size();
    let padded_plane = g.padded_size().iter().product::<usize>();
    let [od_n, oh_n, ow_n] = g.out_size;
    let (kd_n, kvol, in_plane) = (g.kernel[0], g.kernel_volume(), g.in_plane());
    let mut planes = Vec::with_capacity(cin_g * kd_n);
    for group in 0..g.groups {
        let image_g = &image[group * cin_g * in_plane..][..cin_g * in_plane];
        pad_image(image_g, cin_g, g.in_size, g.pad_before, g.pad_after, g.padding_mode, padded);
        for co in group * cout_g..(group + 1) * cout_g {
            let w = &weight[co * cin_g * kvol..][..cin_g * kvol];
            let b = bias.map_or(0.0, |b| b[co]);
            for od in 0..od_n {
                planes.clear();
                for ci in 0..cin_g {
                    for kd in 0..kd_n {
                        let z = od * g.stride[0] + kd * g.dilation[0];
                        planes.push((ci * padded_plane + z * ph * pw, (ci * kd_n + kd) * win.kh * win.kw));
                    }
                }
                let out_2d = &mut out[(co * od_n + od) * oh_n * ow_n..][..oh_n * ow_n];
                let mut oh = 0;
                while oh + R <= oh_n {
                    row_band::<R, V>(win, padded, pw, &planes, w, b, out_2d, ow_n, oh);
                    oh += R;
                }
                while oh < oh_n {
                    row_band::<1, V>(win, padded, pw, &planes, w, b, out_2d, ow_n, oh);
                    oh += 1;
                }
            }
        }
    }
}

/// The direct executor for any convolution: stride-1 undilated windows get two rows of sixteen
/// outputs per tile with the strides known at compile time; everything else one row of sixteen.
pub(crate) fn direct(
    g: &ConvGeometry,
    image: &[f32],
    weight: &[f32],
    bias: Option<&[f32]>,
    out: &mut [f32],
    padded: &mut Vec<f32>,
) {
    let win = Window::of(g);
    match win {
        Window { sh: 1, sw: 1, dh: 1, dw: 1, kh, kw } => {
            let win = Window { kh, kw, sh: 1, sw: 1, dh: 1, dw: 1 };
            run::<2, 4>(g, win, image, weight, bias, out, padded)
        }
        _ => run::<1, 4>(g, win, image, weight, bias, out, padded),
    }
}
