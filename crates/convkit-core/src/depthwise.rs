//! The depthwise executor (one input channel per group, any depth multiplier). Small kernels at
//! stride 1 or 2 get their window as constants, so the tap loops unroll, the kernel's weights are
//! splatted once per output channel and stay in registers, and a tile of several output rows reads
//! each input row once for every kernel row that uses it. Other windows run the generic tiles.

use crate::direct::{run, Window};
use crate::geometry::ConvGeometry;

pub(crate) fn depthwise(
    g: &ConvGeometry,
    image: &[f32],
    weight: &[f32],
    bias: Option<&[f32]>,
    out: &mut [f32],
    padded: &mut Vec<f32>,
) {
    debug_assert_eq!(g.in_channels_per_group(), 1);
    let fixed = |k: usize, s: usize| Window { kh: k, kw: k, sh: s, sw: s, dh: 1, dw: 1 };
    let win = Window::of(g);
    match (win.kh, win.kw, win.sh, win.sw, win.dh, win.dw) {
        (3, 3, 1, 1, 1, 1) => run::<4, 1>(g, fixed(3, 1), image, weight, bias, out, padded),
        (3, 3, 2, 2, 1, 1) => run::<2, 1>(g, fixed(3, 2), image, weight, bias, out, padded),
        (5, 5, 1, 1, 1, 1) => run::<2, 1>(g, fixed(5, 1), image, weight, bias, out, padded),
        (5, 5, 2, 2, 1, 1) => run::<2, 1>(g, fixed(5, 2), image, weight, bias, out, padded),
        _ => crate::direct::direct(g, image, weight, bias, out, padded),
    }
}
