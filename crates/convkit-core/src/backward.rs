//! Gradients of convolution and transposed convolution, built from the forward machinery rather
//! than a second family of loops:
//! - a convolution's input gradient is a transposed convolution (GEMM + col2im) onto the padded
//!   input, folded back through the padding map (`unpad_add`, the adjoint of `pad_image`);
//! - its weight gradient is a correlation of the padded input with the output gradient: the im2col
//!   GEMM with the output positions as the reduction axis (`gemm_abt_accumulate`);
//! - a transposed convolution is the adjoint of a convolution over its output, so its gradients are
//!   that convolution's forward (input gradient) and the same weight correlation, roles swapped.

use std::borrow::Cow;

use crate::conv::{execute, flip_kernels, im2col_offsets};
use crate::error::ConvError;
use crate::geometry::{ConvGeometry, ConvParams};
use crate::gemm::gemm_abt_accumulate;
use crate::padding::{unpad_add, PaddedImage, PaddingMode};
use crate::plan::{plan_conv, Algorithm};
use crate::transpose::{conv_transpose_forward, TransposeGeometry, TransposeParams};

/// What PyTorch's autograd returns for a (transposed) convolution.
#[derive(Clone, Debug, PartialEq)]
pub struct Gradients {
    pub input: Vec<f32>,
    pub weight: Vec<f32>,
    /// Present when the forward call had a bias.
    pub bias: Option<Vec<f32>>,
}

/// Checks that a gradient of the output has the output's length.
pub fn check_grad_output(grad_output: &[f32], expected: usize) -> Result<(), ConvError> {
    if grad_output.len() != expected {
        return Err(ConvError::shape(format!(
            "gradOutput has {} elements but the output has {expected}",
            grad_output.len()
        )));
    }
    Ok(())
}

/// Gradients of `conv_forward` for a validated geometry.
/// Fails only with OUT_OF_MEMORY, when the whole batch's padded input gradient cannot exist.
pub fn conv_backward(g: &ConvGeometry, input: &[f32], weight: &[f32], grad_output: &[f32], with_bias: bool) -> Result<Gradients, ConvError> {
    let taps = g.kernel_volume();
    let weight = if g.flip { Cow::Owned(flip_kernels(weight, taps)) } else { Cow::Borrowed(weight) };
    let grad_input = conv_input_grad(g, &weight, grad_output)?;
    let grad_weight = conv_weight_grad(g, input, grad_output);
    Ok(Gradients {
        input: grad_input,
        // The forward used the rotated kernel: rotate its gradient back.
        weight: if g.flip { flip_kernels(&grad_weight, taps) } else { grad_weight },
        bias: with_bias.then(|| bias_grad(grad_output, g.out_channels, g.out_plane())),
    })
}

/// Gradients of `conv_transpose_forward`. Fails only with OUT_OF_MEMORY (the padded output
/// gradient of the adjoint convolution).
pub fn conv_transpose_backward(tg: &TransposeGeometry, input: &[f32], weight: &[f32], grad_output: &[f32], with_bias: bool) -> Result<Gradients, ConvError> {
    let cg = adjoint_convolution(tg)?;
    let mut grad_input = vec![0.0; cg.output_len()];
    let plan = plan_conv(&cg, Algorithm::Auto).expect("auto always has a plan");
    execute(&cg, &plan, grad_output, weight, None, &mut grad_input);
    Ok(Gradients {
        input: grad_input,
        weight: conv_weight_grad(&cg, grad_output, input),
        bias: with_bias.then(|| bias_grad(grad_output, tg.out_channels, tg.out_size.iter().product())),
    })
}

/// The convolution over a transposed convolution's output whose output is its input: same weight
/// (`[Cin, Cout/groups, k]` read as `[Cout', Cin'/groups, k]`), stride, dilation and groups, and
/// the transposed padding on both sides.
fn adjoint_convolution(tg: &TransposeGeometry) -> Result<ConvGeometry, ConvError> {
    let axes = 3 - tg.spatial_dims..3;
    let mut output_shape = vec![tg.batch, tg.out_channels];
    output_shape.extend_from_slice(&tg.out_size[axes.clone()]);
    let mut weight_shape = vec![tg.in_channels, tg.out_channels / tg.groups];
    weight_shape.extend_from_slice(&tg.kernel[axes.clone()]);
    let params = ConvParams {
        stride: tg.stride[axes.clone()].to_vec(),
        dilation: tg.dilation[axes.clone()].to_vec(),
        pad_before: tg.padding[axes.clone()].to_vec(),
        pad_after: tg.padding[axes].to_vec(),
        padding_mode: PaddingMode::Zeros,
        groups: tg.groups,
        flip: false,
    };
    // Valid whenever the transposed convolution is, except that its padded size may not fit in memory.
    let mut cg = ConvGeometry::new(&output_shape, &weight_shape, None, &params)?;
    // Output padding of a stride or more (allowed below the dilation) adds whole strides at the
    // end that no input position reached: the adjoint's extra outputs are dropped.
    debug_assert!(cg.out_size.iter().zip(&tg.in_size).all(|(o, i)| o >= i));
    cg.out_size = tg.in_size;
    Ok(cg)
}

/// Input gradient of a convolution: the transposed convolution of the output gradient onto the
/// padded input (output padding covers rows the strided windows never reached), then folded back
/// through the padding map.
fn conv_input_grad(g: &ConvGeometry, weight: &[f32], grad_output: &[f32]) -> Result<Vec<f32>, ConvError> {
    let axes = 3 - g.spatial_dims..3;
    let padded = g.padded_size();
    let reached = |a: usize| (g.out_size[a] - 1) * g.stride[a] + g.dilation[a] * (g.kernel[a] - 1) + 1;
    let params = TransposeParams {
        stride: g.stride[axes.clone()].to_vec(),
        padding: vec![0; g.spatial_dims],
        output_padding: axes.clone().map(|a| padded[a] - reached(a)).collect(),
        dilation: g.dilation[axes.clone()].to_vec(),
        groups: g.groups,
    };
    let mut grad_output_shape = vec![g.batch, g.out_channels];
    grad_output_shape.extend_from_slice(&g.out_size[axes.clone()]);
    let mut weight_shape = vec![g.out_channels, g.in_channels_per_group()];
    weight_shape.extend_from_slice(&g.kernel[axes]);
    // Valid whenever the convolution is, except that the whole batch's padded gradient may not fit.
    let tg = TransposeGeometry::new(&grad_output_shape, &weight_shape, None, &params)?;
    debug_assert_eq!(tg.out_size, padded);
    let grad_padded = conv_transpose_forward(&tg, grad_output, weight, None);
    let image = g.in_channels * g.in_plane();
    let padded_image = g.in_channels * padded.iter().product::<usize>();
    let mut grad_input = vec![0.0; g.input_len()];
    for n in 0..g.batch {
        unpad_add(&grad_padded[n * padded_image..][..padded_image], g.in_channels, &g.padding(), &mut grad_input[n * image..][..image]);
    }
    Ok(grad_input)
}

/// Weight gradient of a convolution (of the unflipped kernel): per sample and group,
/// `dW_g += dY_g * im2col(padded x_g)^T`.
pub(crate) fn conv_weight_grad(g: &ConvGeometry, input: &[f32], grad_output: &[f32]) -> Vec<f32> {
    let (cin_g, cout_g) = (g.in_channels_per_group(), g.out_channels_per_group());
    let (row_offsets, column_offsets) = im2col_offsets(g);
    let k = row_offsets.len();
    let padded_plane: usize = g.padded_size().iter().product();
    let (image, out_plane) = (g.in_channels * g.in_plane(), g.out_plane());
    let mut grad = vec![0.0; g.weight_len()];
    let mut padded_input = PaddedImage::default();
    for n in 0..g.batch {
        let padded = padded_input.fill(&input[n * image..][..image], g.in_channels, &g.padding(), 0);
        for group in 0..g.groups {
            let src = &padded[group * cin_g * padded_plane..][..cin_g * padded_plane];
            let dy = &grad_output[(n * g.out_channels + group * cout_g) * out_plane..][..cout_g * out_plane];
            gemm_abt_accumulate(dy, out_plane, cout_g, src, &row_offsets, &column_offsets, &mut grad[group * cout_g * k..][..cout_g * k]);
        }
    }
    grad
}

/// Sum of the output gradient over batch and space, per channel (accumulated in f64).
pub fn bias_grad(grad_output: &[f32], channels: usize, plane: usize) -> Vec<f32> {
    let mut sums = vec![0.0f64; channels];
    for (i, chunk) in grad_output.chunks_exact(plane).enumerate() {
        sums[i % channels] += chunk.iter().map(|&v| v as f64).sum::<f64>();
    }
    sums.into_iter().map(|s| s as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conv::conv_forward;
    use crate::test_data::MODES;

    fn data(n: usize, seed: usize) -> Vec<f32> {
        (0..n).map(|i| (((i + seed) * 7919 % 17) as f32) - 8.0).collect()
    }
    fn dot(a: &[f32], b: &[f32]) -> f64 {
        a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum()
    }

    /// A convolution is linear in its input and in its weight, so with integer data the adjoint
    /// identities hold exactly: <conv(x, w), dy> = <x, dx> = <w, dw>.
    #[test]
    fn conv_gradients_satisfy_the_adjoint_identities() {
        let cases: &[(&[usize], &[usize], &[usize], &[usize], &[usize], &[usize], usize, bool)] = &[
            // input, weight, stride, dilation, pad before, pad after, groups, flip
            (&[2, 4, 7, 6], &[6, 2, 3, 2], &[2, 1], &[1, 2], &[1, 2], &[2, 0], 2, false),
            (&[1, 3, 9], &[2, 3, 4], &[3], &[1], &[2], &[1], 1, true),
            (&[1, 2, 4, 5, 4], &[2, 1, 2, 3, 2], &[1, 2, 1], &[2, 1, 1], &[1, 0, 1], &[0, 2, 1], 2, false),
            (&[2, 3, 5, 5], &[3, 1, 3, 3], &[1, 1], &[1, 1], &[1, 1], &[1, 1], 3, true),
        ];
        for &(xs, ws, stride, dilation, before, after, groups, flip) in cases {
            for mode in MODES {
                let params = ConvParams {
                    stride: stride.to_vec(),
                    dilation: dilation.to_vec(),
                    pad_before: before.to_vec(),
                    pad_after: after.to_vec(),
                    padding_mode: mode,
                    groups,
                    flip,
                };
                let Ok(g) = ConvGeometry::new(xs, ws, Some(ws[0]), &params) else { continue };
                let (x, w) = (data(g.input_len(), 1), data(g.weight_len(), 2));
                let dy = data(g.output_len(), 3);
                let (y, _) = conv_forward(&x, xs, &w, ws, None, &params, Algorithm::Direct).unwrap();
                let grads = conv_backward(&g, &x, &w, &dy, true).unwrap();
                let want = dot(&y, &dy);
                assert_eq!(dot(&x, &grads.input), want, "input gradient {xs:?} {mode:?}");
                assert_eq!(dot(&w, &grads.weight), want, "weight gradient {xs:?} {mode:?}");
                let sums: Vec<f32> = (0..g.out_channels)
                    .map(|c| (0..g.batch).flat_map(|n| dy[(n * g.out_channels + c) * g.out_plane()..][..g.out_plane()].to_vec()).sum())
                    .collect();
                assert_eq!(grads.bias.unwrap(), sums);
            }
        }
    }

    #[test]
    fn conv_transpose_gradients_satisfy_the_adjoint_identities() {
        let cases: &[(&[usize], &[usize], TransposeParams)] = &[
            (&[2, 4, 5, 6], &[4, 3, 3, 2], TransposeParams { stride: vec![2, 1], padding: vec![1, 0], output_padding: vec![1, 0], dilation: vec![1, 2], groups: 1 }),
            (&[1, 6, 7], &[6, 1, 4], TransposeParams { stride: vec![3], padding: vec![2], output_padding: vec![2], dilation: vec![1], groups: 2 }),
            (&[1, 2, 3, 4, 3], &[2, 2, 2, 3, 2], TransposeParams { stride: vec![2, 1, 2], padding: vec![0, 1, 1], output_padding: vec![1, 0, 0], dilation: vec![1, 1, 2], groups: 1 }),
            // Output padding beyond the stride (allowed below the dilation).
            (&[1, 2, 4, 5], &[2, 2, 2, 3], TransposeParams { stride: vec![1, 2], padding: vec![0, 1], output_padding: vec![2, 3], dilation: vec![3, 4], groups: 1 }),
        ];
        for (xs, ws, p) in cases {
            let tg = TransposeGeometry::new(xs, ws, Some(ws[1] * p.groups), p).unwrap();
            let (x, w, dy) = (data(tg.input_len(), 4), data(tg.weight_len(), 5), data(tg.output_len(), 6));
            let y = conv_transpose_forward(&tg, &x, &w, None);
            let grads = conv_transpose_backward(&tg, &x, &w, &dy, true).unwrap();
            let want = dot(&y, &dy);
            assert_eq!(dot(&x, &grads.input), want, "input gradient {xs:?}");
            assert_eq!(dot(&w, &grads.weight), want, "weight gradient {xs:?}");
            assert_eq!(grads.bias.unwrap().len(), tg.out_channels);
        }
    }
}
