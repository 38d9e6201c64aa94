//! Pooling (max, min, average) over 1 to 3 spatial axes with PyTorch's semantics: implicit padding
//! that max/min never pick and average counts only with `count_include_pad`, `ceil_mode`, dilation
//! for max/min, a divisor override, and PyTorch's flat per-plane argmax/argmin indices.

use crate::error::ConvError;
use crate::geometry::{checked_len, lift};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolKind {
    Max,
    Min,
    Avg,
}

impl PoolKind {
    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => PoolKind::Max,
            1 => PoolKind::Min,
            2 => PoolKind::Avg,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug)]
pub struct PoolParams {
    pub kind: PoolKind,
    pub kernel: Vec<usize>,
    pub stride: Vec<usize>,
    pub padding: Vec<usize>,
    pub dilation: Vec<usize>,
    pub ceil_mode: bool,
    pub count_include_pad: bool,
    pub divisor_override: Option<usize>,
}

/// PyTorch's pooling output length (`pooling_output_shape`), in i128 so that no size a caller can
/// pass overflows on any target.
pub fn pool_output_length(input: usize, kernel: usize, stride: usize, pad: usize, dilation: usize, ceil_mode: bool) -> i128 {
    let (input, kernel, stride, pad, dilation) = (input as i128, kernel as i128, stride as i128, pad as i128, dilation as i128);
    // Saturating: a dilation times a kernel near usize::MAX squared exceeds even i128.
    let numerator = (input + 2 * pad).saturating_sub(dilation.saturating_mul(kernel - 1)) - 1 + if ceil_mode { stride - 1 } else { 0 };
    let mut out = numerator.div_euclid(stride.max(1)) + 1;
    // The last window must start inside the input or its left padding.
    if ceil_mode && (out - 1).saturating_mul(stride) >= input + pad {
        out -= 1;
    }
    out
}

/// Validated pooling geometry lifted to three spatial axes.
#[derive(Clone, Debug)]
pub struct PoolGeometry {
    pub planes: usize,
    pub in_size: [usize; 3],
    pub out_size: [usize; 3],
    pub kernel: [usize; 3],
    pub stride: [usize; 3],
    pub padding: [usize; 3],
    pub dilation: [usize; 3],
    pub params: PoolParams,
}

impl PoolGeometry {
    /// `input` is `[N, C, ...spatial]`.
    pub fn new(input: &[usize], params: &PoolParams) -> Result<Self, ConvError> {
        let dims = input.len().wrapping_sub(2);
        if !(1..=3).contains(&dims) {
            return Err(ConvError::invalid(format!("input must have 3 to 5 dimensions, got {}", input.len())));
        }
        for v in [&params.kernel, &params.stride, &params.padding, &params.dilation] {
            if v.len() != dims {
                return Err(ConvError::invalid(format!("pooling options must have {dims} entries per axis")));
            }
        }
        if params.kernel.contains(&0) || params.stride.contains(&0) || params.dilation.contains(&0) {
            return Err(ConvError::invalid("kernelSize, stride and dilation must be >= 1"));
        }
        if params.divisor_override == Some(0) {
            return Err(ConvError::invalid("divisorOverride must be >= 1"));
        }
        let mut out = vec![0; dims];
        for a in 0..dims {
            if params.padding[a] > params.kernel[a] / 2 {
                return Err(ConvError::invalid(format!(
                    "padding {} must be at most half the kernel size {} on axis {a}",
                    params.padding[a], params.kernel[a]
                )));
            }
            let o = pool_output_length(input[2 + a], params.kernel[a], params.stride[a], params.padding[a], params.dilation[a], params.ceil_mode);
            if o < 1 {
                return Err(ConvError::invalid(format!("the output would be empty on axis {a} (input size {})", input[2 + a])));
            }
            out[a] = o as usize;
        }
        checked_len("input", input)?;
        Ok(PoolGeometry {
            planes: input[0] * input[1],
            in_size: lift(&input[2..], 1),
            out_size: lift(&out, 1),
            kernel: lift(&params.kernel, 1),
            stride: lift(&params.stride, 1),
            padding: lift(&params.padding, 0),
            dilation: lift(&params.dilation, 1),
            params: params.clone(),
        })
    }

    pub fn output_len(&self) -> usize {
        self.planes * self.out_size.iter().product::<usize>()
    }
}

/// One output window along one axis.
struct AxisWindow {
    /// Taps inside the input.
    taps: Vec<usize>,
    /// The window length clipped to the padded input (average pooling's `count_include_pad` divisor).
    span: usize,
    /// The first tap at or after 0, possibly past the input: PyTorch's index for a window with no
    /// tap inside the input (which max/min report as -inf/+inf).
    first: usize,
}

fn axis_window(o: usize, g: &PoolGeometry, a: usize) -> AxisWindow {
    let start = (o * g.stride[a]) as isize - g.padding[a] as isize;
    let taps = (0..g.kernel[a])
        .map(|k| start + (k * g.dilation[a]) as isize)
        .filter(|&i| i >= 0 && i < g.in_size[a] as isize)
        .map(|i| i as usize)
        .collect();
    let padded_end = (g.in_size[a] + g.padding[a]) as isize;
    let span = ((start + g.kernel[a] as isize).min(padded_end) - start) as usize;
    let step = g.dilation[a] as isize;
    let first = if start >= 0 { start } else { start + (-start + step - 1) / step * step } as usize;
    AxisWindow { taps, span, first }
}

/// Every output window, per axis.
type Windows = [Vec<AxisWindow>; 3];

fn windows(g: &PoolGeometry) -> Windows {
    std::array::from_fn(|a| (0..g.out_size[a]).map(|o| axis_window(o, g, a)).collect())
}

/// What average pooling divides a window's sum by.
fn avg_divisor(g: &PoolGeometry, z: &AxisWindow, y: &AxisWindow, x: &AxisWindow) -> f32 {
    (match g.params.divisor_override {
        Some(d) => d,
        None if g.params.count_include_pad => z.span * y.span * x.span,
        None => z.taps.len() * y.taps.len() * x.taps.len(),
    }) as f32
}

/// Runs pooling over `[planes, ...in_size]`; returns the output and, for max/min, the indices.
pub fn pool_forward(input: &[f32], g: &PoolGeometry) -> (Vec<f32>, Option<Vec<i32>>) {
    let in_plane: usize = g.in_size.iter().product();
    let out_plane: usize = g.out_size.iter().product();
    let windows = windows(g);
    let kind = g.params.kind;
    let mut output = vec![0.0; g.planes * out_plane];
    let mut indices = if kind == PoolKind::Avg { None } else { Some(vec![0i32; g.planes * out_plane]) };
    for plane in 0..g.planes {
        let src = &input[plane * in_plane..(plane + 1) * in_plane];
        let mut o = plane * out_plane;
        for wz in &windows[0] {
            for wy in &windows[1] {
                for wx in &windows[2] {
                    let (zs, ys, xs) = (&wz.taps, &wy.taps, &wx.taps);
                    match kind {
                        PoolKind::Avg => {
                            let mut sum = 0.0f32;
                            for &z in zs {
                                for &y in ys {
                                    let row = (z * g.in_size[1] + y) * g.in_size[2];
                                    for &x in xs {
                                        sum += src[row + x];
                                    }
                                }
                            }
                            output[o] = sum / avg_divisor(g, wz, wy, wx);
                        }
                        PoolKind::Max | PoolKind::Min => {
                            let mut best = if kind == PoolKind::Max { f32::NEG_INFINITY } else { f32::INFINITY };
                            let mut best_at = -1i64;
                            for &z in zs {
                                for &y in ys {
                                    let row = (z * g.in_size[1] + y) * g.in_size[2];
                                    for &x in xs {
                                        let v = src[row + x];
                                        let better = if kind == PoolKind::Max { v > best } else { v < best };
                                        // A NaN wins (the last one, as in PyTorch's CPU kernel); an
                                        // all -inf window reports its first tap.
                                        if better || v.is_nan() || best_at < 0 {
                                            best = v;
                                            best_at = (row + x) as i64;
                                        }
                                    }
                                }
                            }
                            if best_at < 0 {
                                best_at = ((wz.first * g.in_size[1] + wy.first) * g.in_size[2] + wx.first) as i64;
                            }
                            output[o] = best;
                            indices.as_mut().unwrap()[o] = best_at as i32;
                        }
                    }
                    o += 1;
                }
            }
        }
    }
    (output, indices)
}

/// Gradient of `pool_forward` with respect to its input: max/min route each output's gradient to
/// the element it picked; average spreads it over the window's taps, divided as in the forward.
pub fn pool_backward(input: &[f32], grad_output: &[f32], g: &PoolGeometry) -> Vec<f32> {
    let in_plane: usize = g.in_size.iter().product();
    let out_plane: usize = g.out_size.iter().product();
    let mut grad = vec![0.0; input.len()];
    let windows = windows(g);
    if let (_, Some(indices)) = pool_forward(input, g) {
        // A window with no tap inside the input picked nothing: its (PyTorch) index may even alias
        // another element, so such windows are skipped by their geometry.
        let mut empty = Vec::with_capacity(out_plane);
        for z in &windows[0] {
            for y in &windows[1] {
                for x in &windows[2] {
                    empty.push(z.taps.is_empty() || y.taps.is_empty() || x.taps.is_empty());
                }
            }
        }
        for (o, (&dy, &at)) in grad_output.iter().zip(&indices).enumerate() {
            if !empty[o % out_plane] {
                grad[(o / out_plane) * in_plane + at as usize] += dy;
            }
        }
        return grad;
    }
    for plane in 0..g.planes {
        let dst = &mut grad[plane * in_plane..(plane + 1) * in_plane];
        let mut dys = grad_output[plane * out_plane..(plane + 1) * out_plane].iter();
        for wz in &windows[0] {
            for wy in &windows[1] {
                for wx in &windows[2] {
                    let share = dys.next().unwrap() / avg_divisor(g, wz, wy, wx);
                    for &z in &wz.taps {
                        for &y in &wy.taps {
                            let row = (z * g.in_size[1] + y) * g.in_size[2];
                            for &x in &wx.taps {
                                dst[row + x] += share;
                            }
                        }
                    }
                }
            }
        }
    }
    grad
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(kind: PoolKind, k: usize, s: usize, p: usize) -> PoolParams {
        PoolParams {
            kind,
            kernel: vec![k],
            stride: vec![s],
            padding: vec![p],
            dilation: vec![1],
            ceil_mode: false,
            count_include_pad: true,
            divisor_override: None,
        }
    }

    #[test]
    fn output_length_matches_pytorch_including_ceil_mode() {
        assert_eq!(pool_output_length(5, 2, 2, 0, 1, false), 2);
        assert_eq!(pool_output_length(5, 2, 2, 0, 1, true), 3);
        // ceil_mode drops a window that would start in the right padding.
        assert_eq!(pool_output_length(4, 3, 3, 1, 1, true), 2);
    }

    #[test]
    fn max_min_avg_with_indices() {
        let x = [1.0, 5.0, -2.0, 4.0, 3.0];
        let g = PoolGeometry::new(&[1, 1, 5], &params(PoolKind::Max, 2, 2, 1)).unwrap();
        let (out, idx) = pool_forward(&x, &g);
        assert_eq!(out, vec![1.0, 5.0, 4.0]);
        assert_eq!(idx.unwrap(), vec![0, 1, 3]);
        let g = PoolGeometry::new(&[1, 1, 5], &params(PoolKind::Min, 2, 2, 1)).unwrap();
        assert_eq!(pool_forward(&x, &g).0, vec![1.0, -2.0, 3.0]);
        let g = PoolGeometry::new(&[1, 1, 5], &params(PoolKind::Avg, 2, 2, 1)).unwrap();
        assert_eq!(pool_forward(&x, &g).0, vec![0.5, 1.5, 3.5]);
        let mut p = params(PoolKind::Avg, 2, 2, 1);
        p.count_include_pad = false;
        let g = PoolGeometry::new(&[1, 1, 5], &p).unwrap();
        assert_eq!(pool_forward(&x, &g).0, vec![1.0, 1.5, 3.5]);
    }

    #[test]
    fn backward_routes_to_the_pick_or_spreads_over_the_window() {
        let x = [1.0, 5.0, -2.0, 4.0, 3.0];
        let dy = [10.0, 20.0, 30.0];
        let g = PoolGeometry::new(&[1, 1, 5], &params(PoolKind::Max, 2, 2, 1)).unwrap();
        assert_eq!(pool_backward(&x, &dy, &g), vec![10.0, 20.0, 0.0, 30.0, 0.0]);
        let g = PoolGeometry::new(&[1, 1, 5], &params(PoolKind::Min, 2, 2, 1)).unwrap();
        assert_eq!(pool_backward(&x, &dy, &g), vec![10.0, 0.0, 20.0, 0.0, 30.0]);
        // Windows [pad, 0], [1, 2], [3, 4], each divided by 2.
        let g = PoolGeometry::new(&[1, 1, 5], &params(PoolKind::Avg, 2, 2, 1)).unwrap();
        assert_eq!(pool_backward(&x, &dy, &g), vec![5.0, 10.0, 10.0, 15.0, 15.0]);
    }

    #[test]
    fn a_window_entirely_in_the_padding_reports_pytorchs_index_and_gets_no_gradient() {
        // PyTorch: max_pool1d([[[5.]]], 2, stride=2, padding=1, dilation=2) -> (-inf, index 1).
        let mut p = params(PoolKind::Max, 2, 2, 1);
        p.dilation = vec![2];
        let g = PoolGeometry::new(&[1, 1, 1], &p).unwrap();
        let (out, idx) = pool_forward(&[5.0], &g);
        assert_eq!((out, idx.unwrap()), (vec![f32::NEG_INFINITY], vec![1]));
        assert_eq!(pool_backward(&[5.0], &[1.0], &g), vec![0.0]);
    }

    #[test]
    fn rejects_padding_over_half_the_kernel() {
        assert!(PoolGeometry::new(&[1, 1, 5], &params(PoolKind::Max, 2, 1, 2)).is_err());
    }
}
