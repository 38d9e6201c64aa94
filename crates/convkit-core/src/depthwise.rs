//! The depthwise executor (one input channel per group, any depth multiplier). Small kernels at
//! stride 1 or 2 get their window as constants, so the tap loops unroll, the kernel's weights are
//! splatted once per output channel and stay in registers, and a tile of several output rows reads
//! each input row once for every kernel row that uses it. Other windows run the generic tiles.

use crate::direct::{direct, run, Fixed};
use crate::geometry::ConvGeometry;

pub(crate) fn depthwise(g: &ConvGeometry, padded: &[f32], weight: &[f32], bias: Option<&[f32]>, out: &mut [f32]) {
    debug_assert_eq!(g.in_channels_per_group(), 1);
    let (k, s, d) = (g.kernel, g.stride, g.dilation);
    let square = k[1] == k[2] && s[1] == s[2] && d[1..] == [1, 1];
    match (square, k[1], s[1]) {
        (true, 3, 1) => run::<_, 4, 2>(g, Fixed::<3, 1>, padded, weight, bias, out),
        (true, 3, 2) => run::<_, 2, 2>(g, Fixed::<3, 2>, padded, weight, bias, out),
        (true, 5, 1) => run::<_, 3, 2>(g, Fixed::<5, 1>, padded, weight, bias, out),
        (true, 5, 2) => run::<_, 2, 2>(g, Fixed::<5, 2>, padded, weight, bias, out),
        (true, 7, 1) => run::<_, 2, 2>(g, Fixed::<7, 1>, padded, weight, bias, out),
        _ => direct(g, padded, weight, bias, out),
    }
}
