//! A slow, obviously-correct convolution: every output is a sum over taps, each input read through
//! the padding map, accumulated in f64. Tests compare every fast path against it.

use crate::geometry::{ConvGeometry, ConvParams};

pub fn conv_reference(
    input: &[f32],
    input_shape: &[usize],
    weight: &[f32],
    weight_shape: &[usize],
    bias: Option<&[f32]>,
    params: &ConvParams,
) -> Vec<f32> {
    let g = ConvGeometry::new(input_shape, weight_shape, bias.map(<[f32]>::len), params).unwrap();
    let [id, ih, iw] = g.in_size;
    let [kd, kh, kw] = g.kernel;
    let [od_n, oh_n, ow_n] = g.out_size;
    let (cin_g, cout_g) = (g.in_channels_per_group(), g.out_channels_per_group());
    let mut out = Vec::with_capacity(g.output_len());
    for n in 0..g.batch {
        for co in 0..g.out_channels {
            let group = co / cout_g;
            for od in 0..od_n {
                for oh in 0..oh_n {
                    for ow in 0..ow_n {
                        let mut acc = bias.map_or(0.0, |b| b[co] as f64);
                        for ci in 0..cin_g {
                            let c = group * cin_g + ci;
                            for a in 0..kd {
                                for b in 0..kh {
                                    for e in 0..kw {
                                        let pos = |o: usize, t: usize, axis: usize| {
                                            (o * g.stride[axis] + t * g.dilation[axis]) as isize
                                                - g.pad_before[axis] as isize
                                        };
                                        let m = g.padding_mode;
                                        let (Some(z), Some(y), Some(x)) = (
                                            m.source_index(pos(od, a, 0), id),
                                            m.source_index(pos(oh, b, 1), ih),
                                            m.source_index(pos(ow, e, 2), iw),
                                        ) else {
                                            continue;
                                        };
                                        let (ta, tb, te) = if g.flip {
                                            (kd - 1 - a, kh - 1 - b, kw - 1 - e)
                                        } else {
                                            (a, b, e)
                                        };
                                        let wv = weight[(((co * cin_g + ci) * kd + ta) * kh + tb) * kw + te];
                                        let xv = input[(((n * g.in_channels + c) * id + z) * ih + y) * iw + x];
                                        acc += wv as f64 * xv as f64;
                                    }
                                }
                            }
                        }
                        out.push(acc as f32);
                    }
                }
            }
        }
    }
    out
}
