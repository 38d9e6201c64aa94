//! Deformable convolution (torchvision `deform_conv2d`: DCNv1, and DCNv2 with a mask). Each kernel
//! tap samples the input bilinearly at its regular position plus a learned (dy, dx) offset, zeros
//! outside; the sampled columns then go through the same packed GEMM as im2col convolution.

use crate::error::ConvError;
use crate::geometry::{checked_len, checked_sum};
use crate::gemm::{gemm_abt_accumulate, gemm_packed, pack_a, pack_b_gathered, NR};

#[derive(Clone, Debug)]
pub struct DeformParams {
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    pub dilation: [usize; 2],
    pub groups: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeformGeometry {
    pub batch: usize,
    pub in_channels: usize,
    pub out_channels: usize,
    pub groups: usize,
    pub offset_groups: usize,
    pub in_size: [usize; 2],
    pub kernel: [usize; 2],
    pub out_size: [usize; 2],
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    pub dilation: [usize; 2],
}

impl DeformGeometry {
    /// `input` `[N, C, H, W]`, `offset` `[N, 2*G*kh*kw, Ho, Wo]`, `weight` `[Cout, C/groups, kh, kw]`,
    /// `mask` `[N, G*kh*kw, Ho, Wo]`.
    pub fn new(input: &[usize], offset: &[usize], weight: &[usize], mask: Option<&[usize]>, bias_len: Option<usize>, p: &DeformParams) -> Result<Self, ConvError> {
        if input.len() != 4 || offset.len() != 4 || weight.len() != 4 || mask.is_some_and(|m| m.len() != 4) {
            return Err(ConvError::invalid("input, offset, weight and mask must have 4 dimensions"));
        }
        if input[1..].contains(&0) || weight.contains(&0) || p.stride.contains(&0) || p.dilation.contains(&0) || p.groups == 0 {
            return Err(ConvError::invalid("empty dimensions, stride, dilation or groups of 0"));
        }
        let (c, cout) = (input[1], weight[0]);
        let taps = weight[2].checked_mul(weight[3]).and_then(|t| t.checked_mul(2)).map(|t| t / 2).ok_or_else(|| ConvError::out_of_memory("kernel too large"))?;
        if c % p.groups != 0 || cout % p.groups != 0 || weight[1].checked_mul(p.groups) != Some(c) {
            return Err(ConvError::shape(format!("weight {weight:?} does not fit {c} input channels with groups={}", p.groups)));
        }
        if bias_len.is_some_and(|b| b != cout) {
            return Err(ConvError::shape("bias length must equal the output channels"));
        }
        let mut out = [0; 2];
        for a in 0..2 {
            let extent = p.dilation[a].checked_mul(weight[2 + a] - 1).and_then(|e| e.checked_add(1)).ok_or_else(|| ConvError::out_of_memory("kernel extent overflows"))?;
            let padded = checked_sum("padded size", [input[2 + a], p.padding[a], p.padding[a]])?;
            if extent > padded {
                return Err(ConvError::invalid("kernel extent larger than the padded input"));
            }
            out[a] = (padded - extent) / p.stride[a] + 1;
        }
        if offset[1] == 0 || offset[1] % (2 * taps) != 0 || c % (offset[1] / (2 * taps)) != 0 {
            return Err(ConvError::shape(format!("offset has {} channels; expected 2*offsetGroups*{taps} with offsetGroups dividing {c}", offset[1])));
        }
        checked_len("input", input)?;
        checked_len("output", &[input[0], cout, out[0], out[1]])?;
        checked_len("sampled columns", &[c, taps, out[0], out[1]])?;
        let offset_groups = offset[1] / (2 * taps);
        if offset[0] != input[0] || offset[2..] != out {
            return Err(ConvError::shape(format!("offset shape {offset:?} must be [{}, {}, {}, {}]", input[0], offset[1], out[0], out[1])));
        }
        if let Some(m) = mask {
            if m != [input[0], offset_groups * taps, out[0], out[1]] {
                return Err(ConvError::shape(format!("mask shape {m:?} must be [{}, {}, {}, {}]", input[0], offset_groups * taps, out[0], out[1])));
            }
        }
        Ok(DeformGeometry {
            batch: input[0],
            in_channels: c,
            out_channels: cout,
            groups: p.groups,
            offset_groups,
            in_size: [input[2], input[3]],
            kernel: [weight[2], weight[3]],
            out_size: out,
            stride: p.stride,
            padding: p.padding,
            dilation: p.dilation,
        })
    }
}

/// The four pixels around (y, x), corners outside the `h x w` plane reading zero, and the
/// fractional offsets (ly, lx) from the top-left one.
#[inline]
fn corners(plane: &[f32], h: usize, w: usize, y: f32, x: f32) -> ([f32; 4], f32, f32) {
    let (y0, x0) = (y.floor(), x.floor());
    let (yl, xl) = (y0 as isize, x0 as isize);
    let at = |yy: isize, xx: isize| {
        if yy >= 0 && xx >= 0 && yy < h as isize && xx < w as isize {
            plane[yy as usize * w + xx as usize]
        } else {
            0.0
        }
    };
    ([at(yl, xl), at(yl, xl + 1), at(yl + 1, xl), at(yl + 1, xl + 1)], y - y0, x - x0)
}

/// torchvision's bilinear sample of one `h x w` plane: zero outside, and corners outside the plane
/// count as zero.
#[inline]
pub fn bilinear(plane: &[f32], h: usize, w: usize, y: f32, x: f32) -> f32 {
    if y <= -1.0 || y >= h as f32 || x <= -1.0 || x >= w as f32 {
        return 0.0;
    }
    let ([v00, v01, v10, v11], ly, lx) = corners(plane, h, w, y, x);
    (1.0 - ly) * (1.0 - lx) * v00 + (1.0 - ly) * lx * v01 + ly * (1.0 - lx) * v10 + ly * lx * v11
}

/// Where kernel tap `tap` of output position (oy, ox) samples sample `n`, offset group `og`, and the
/// indices of its (dy, dx) offset pair and its mask value.
struct Sample {
    y: f32,
    x: f32,
    dy_at: usize,
    dx_at: usize,
    mask_at: usize,
}

impl DeformGeometry {
    fn taps(&self) -> usize {
        self.kernel[0] * self.kernel[1]
    }
    fn positions(&self) -> usize {
        self.out_size[0] * self.out_size[1]
    }
    pub fn input_len(&self) -> usize {
        self.batch * self.in_channels * self.in_size[0] * self.in_size[1]
    }
    pub fn offset_len(&self) -> usize {
        self.batch * 2 * self.offset_groups * self.taps() * self.positions()
    }
    pub fn mask_len(&self) -> usize {
        self.offset_len() / 2
    }
    pub fn weight_len(&self) -> usize {
        self.out_channels * (self.in_channels / self.groups) * self.taps()
    }
    pub fn output_len(&self) -> usize {
        self.batch * self.out_channels * self.positions()
    }

    /// Calls `f(channel, tap, position, sample)` for every sampled column entry of sample `n`.
    fn for_each_sample(&self, n: usize, offset: &[f32], mut f: impl FnMut(usize, usize, usize, Sample)) {
        let (taps, p_len) = (self.taps(), self.positions());
        let channels_per_offset_group = self.in_channels / self.offset_groups;
        for c in 0..self.in_channels {
            let og = c / channels_per_offset_group;
            for tap in 0..taps {
                let (i, j) = (tap / self.kernel[1], tap % self.kernel[1]);
                let dy_base = ((n * self.offset_groups + og) * 2 * taps + 2 * tap) * p_len;
                let mask_base = ((n * self.offset_groups + og) * taps + tap) * p_len;
                for p in 0..p_len {
                    let (oy, ox) = (p / self.out_size[1], p % self.out_size[1]);
                    let (dy_at, dx_at) = (dy_base + p, dy_base + p_len + p);
                    let y = (oy * self.stride[0] + i * self.dilation[0]) as f32 - self.padding[0] as f32 + offset[dy_at];
                    let x = (ox * self.stride[1] + j * self.dilation[1]) as f32 - self.padding[1] as f32 + offset[dx_at];
                    f(c, tap, p, Sample { y, x, dy_at, dx_at, mask_at: mask_base + p });
                }
            }
        }
    }

    /// The deformable im2col matrix of sample `n`: row (c, tap), column p holds the (masked)
    /// bilinear sample.
    fn sample_columns(&self, n: usize, input: &[f32], offset: &[f32], mask: Option<&[f32]>, cols: &mut [f32]) {
        let [h, w] = self.in_size;
        let (taps, p_len) = (self.taps(), self.positions());
        self.for_each_sample(n, offset, |c, tap, p, s| {
            let v = bilinear(&input[(n * self.in_channels + c) * h * w..][..h * w], h, w, s.y, s.x);
            cols[(c * taps + tap) * p_len + p] = mask.map_or(v, |m| v * m[s.mask_at]);
        });
    }
}

pub fn deform_conv_forward(g: &DeformGeometry, input: &[f32], offset: &[f32], mask: Option<&[f32]>, weight: &[f32], bias: Option<&[f32]>) -> Vec<f32> {
    let (taps, p_len) = (g.taps(), g.positions());
    let (cin_g, cout_g) = (g.in_channels / g.groups, g.out_channels / g.groups);
    let k = cin_g * taps;
    let mut output = vec![0.0; g.output_len()];
    let mut cols = vec![0.0; g.in_channels * taps * p_len];
    let (mut a_packed, mut b_packed) = (Vec::new(), Vec::new());
    let row_offsets: Vec<usize> = (0..k).map(|r| r * p_len).collect();
    let column_offsets: Vec<usize> = (0..p_len).collect();
    let block = ((256 * 1024 / 4) / k).max(NR) / NR * NR;
    for n in 0..g.batch {
        g.sample_columns(n, input, offset, mask, &mut cols);
        for group in 0..g.groups {
            pack_a(&weight[group * cout_g * k..][..cout_g * k], cout_g, k, k, &mut a_packed);
            let cols_g = &cols[group * k * p_len..][..k * p_len];
            let out_g = &mut output[(n * g.out_channels + group * cout_g) * p_len..][..cout_g * p_len];
            let group_bias = bias.map(|b| &b[group * cout_g..(group + 1) * cout_g]);
            for p0 in (0..p_len).step_by(block) {
                let ncols = block.min(p_len - p0);
                pack_b_gathered(cols_g, &row_offsets, &column_offsets[p0..p0 + ncols], &mut b_packed);
                gemm_packed(cout_g, ncols, k, &a_packed, &b_packed, group_bias, &mut out_g[p0..], p_len);
            }
        }
    }
    output
}

/// What torchvision's autograd returns for `deform_conv2d`.
#[derive(Clone, Debug, PartialEq)]
pub struct DeformGradients {
    pub input: Vec<f32>,
    pub offset: Vec<f32>,
    pub weight: Vec<f32>,
    pub mask: Option<Vec<f32>>,
    pub bias: Option<Vec<f32>>,
}

/// torchvision's `get_coordinate_weight`: the derivative of the bilinear sample along y (or x),
/// corners outside the plane reading zero.
fn coordinate_weight(plane: &[f32], h: usize, w: usize, y: f32, x: f32, along_y: bool) -> f32 {
    let ([v00, v01, v10, v11], ly, lx) = corners(plane, h, w, y, x);
    if along_y {
        lx * (v11 - v01) + (1.0 - lx) * (v10 - v00)
    } else {
        ly * (v11 - v10) + (1.0 - ly) * (v01 - v00)
    }
}

/// The adjoint of `bilinear`: adds `v` times each corner's weight to the corners inside the plane
/// (torchvision's `deformable_col2im`).
fn scatter_bilinear(plane: &mut [f32], h: usize, w: usize, y: f32, x: f32, v: f32) {
    let (yi, xi) = (y as isize, x as isize);
    for yp in yi - 1..=yi + 1 {
        for xp in xi - 1..=xi + 1 {
            let (ey, ex) = ((y - yp as f32).abs(), (x - xp as f32).abs());
            if yp >= 0 && xp >= 0 && yp < h as isize && xp < w as isize && ey < 1.0 && ex < 1.0 {
                plane[yp as usize * w + xp as usize] += (1.0 - ey) * (1.0 - ex) * v;
            }
        }
    }
}

/// Gradients of `deform_conv_forward`: the weight gradient correlates the output gradient with the
/// sampled columns; the column gradient `W^T * dY` (the same packed GEMM) then flows to the input
/// through the bilinear weights, to the offsets through their derivatives and to the mask.
pub fn deform_conv_backward(g: &DeformGeometry, input: &[f32], offset: &[f32], mask: Option<&[f32]>, weight: &[f32], grad_output: &[f32], with_bias: bool) -> DeformGradients {
    let [h, w] = g.in_size;
    let (taps, p_len) = (g.taps(), g.positions());
    let (cin_g, cout_g) = (g.in_channels / g.groups, g.out_channels / g.groups);
    let k = cin_g * taps;
    let mut grads = DeformGradients {
        input: vec![0.0; input.len()],
        offset: vec![0.0; offset.len()],
        weight: vec![0.0; weight.len()],
        mask: mask.map(|m| vec![0.0; m.len()]),
        bias: with_bias.then(|| crate::backward::bias_grad(grad_output, g.out_channels, p_len)),
    };
    // A_g = W_g^T (k x cout_g), packed once.
    let weights_t: Vec<Vec<f32>> = (0..g.groups)
        .map(|group| {
            let w_g = &weight[group * cout_g * k..][..cout_g * k];
            let mut t = vec![0.0; k * cout_g];
            for co in 0..cout_g {
                for r in 0..k {
                    t[r * cout_g + co] = w_g[co * k + r];
                }
            }
            let mut packed = Vec::new();
            pack_a(&t, k, cout_g, cout_g, &mut packed);
            packed
        })
        .collect();
    let column_rows: Vec<usize> = (0..k).map(|r| r * p_len).collect();
    let grad_rows: Vec<usize> = (0..cout_g).map(|co| co * p_len).collect();
    let positions: Vec<usize> = (0..p_len).collect();
    let block = ((256 * 1024 / 4) / cout_g).max(NR) / NR * NR;
    let mut cols = vec![0.0; g.in_channels * taps * p_len];
    let mut grad_cols = vec![0.0; g.in_channels * taps * p_len];
    let mut b_packed = Vec::new();
    for n in 0..g.batch {
        g.sample_columns(n, input, offset, mask, &mut cols);
        for group in 0..g.groups {
            let dy = &grad_output[(n * g.out_channels + group * cout_g) * p_len..][..cout_g * p_len];
            let cols_g = &cols[group * k * p_len..][..k * p_len];
            gemm_abt_accumulate(dy, p_len, cout_g, cols_g, &column_rows, &positions, &mut grads.weight[group * cout_g * k..][..cout_g * k]);
            let grad_cols_g = &mut grad_cols[group * k * p_len..][..k * p_len];
            for p0 in (0..p_len).step_by(block) {
                let ncols = block.min(p_len - p0);
                pack_b_gathered(dy, &grad_rows, &positions[p0..p0 + ncols], &mut b_packed);
                gemm_packed(k, ncols, cout_g, &weights_t[group], &b_packed, None, &mut grad_cols_g[p0..], p_len);
            }
        }
        g.for_each_sample(n, offset, |c, tap, p, s| {
            let plane_at = (n * g.in_channels + c) * h * w;
            let dcol = grad_cols[(c * taps + tap) * p_len + p];
            let m = mask.map_or(1.0, |m| m[s.mask_at]);
            let src = &input[plane_at..][..h * w];
            grads.offset[s.dy_at] += m * dcol * coordinate_weight(src, h, w, s.y, s.x, true);
            grads.offset[s.dx_at] += m * dcol * coordinate_weight(src, h, w, s.y, s.x, false);
            if let Some(grad_mask) = grads.mask.as_mut() {
                grad_mask[s.mask_at] += dcol * bilinear(src, h, w, s.y, s.x);
            }
            scatter_bilinear(&mut grads.input[plane_at..][..h * w], h, w, s.y, s.x, m * dcol);
        });
    }
    grads
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{conv_forward, Algorithm, ConvParams};

    #[test]
    fn zero_offsets_and_unit_mask_give_a_plain_convolution() {
        let p = DeformParams { stride: [2, 1], padding: [1, 2], dilation: [1, 2], groups: 2 };
        let (input_shape, weight_shape) = ([2usize, 4, 7, 6], [6usize, 2, 3, 2]);
        let g = DeformGeometry::new(&input_shape, &[2, 2 * 2 * 6, 4, 8], &weight_shape, Some(&[2, 2 * 6, 4, 8]), Some(6), &p).unwrap();
        let x: Vec<f32> = (0..2 * 4 * 42).map(|i| ((i * 7 % 13) as f32) * 0.25 - 1.0).collect();
        let w: Vec<f32> = (0..6 * 2 * 6).map(|i| ((i * 5 % 11) as f32) * 0.5 - 2.0).collect();
        let bias: Vec<f32> = (0..6).map(|i| i as f32).collect();
        let offset = vec![0.0; 2 * 24 * 32];
        let mask = vec![1.0; 2 * 12 * 32];
        let got = deform_conv_forward(&g, &x, &offset, Some(&mask), &w, Some(&bias));
        let mut cp = ConvParams::new(2);
        cp.stride = vec![2, 1];
        cp.pad_before = vec![1, 2];
        cp.pad_after = vec![1, 2];
        cp.dilation = vec![1, 2];
        cp.groups = 2;
        let (want, shape) = conv_forward(&x, &input_shape, &w, &weight_shape, Some(&bias), &cp, Algorithm::Direct).unwrap();
        assert_eq!(shape, vec![2, 6, 4, 8]);
        for (a, b) in got.iter().zip(&want) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }
    }

    /// Finite differences in f64 of a loss `<deform(x, offset, w, mask), dy>` against the analytic
    /// gradients, on offsets away from integer sample positions (where bilinear sampling has kinks).
    #[test]
    fn gradients_match_finite_differences() {
        let p = DeformParams { stride: [1, 2], padding: [1, 1], dilation: [1, 1], groups: 1 };
        let (xs, ws) = ([1usize, 2, 4, 5], [2usize, 2, 2, 2]);
        let (os, ms) = ([1usize, 2 * 2 * 4, 5, 3], [1usize, 2 * 4, 5, 3]);
        let g = DeformGeometry::new(&xs, &os, &ws, Some(&ms), Some(2), &p).unwrap();
        let x: Vec<f32> = (0..g.input_len()).map(|i| ((i * 7 % 13) as f32) * 0.25 - 1.5).collect();
        let w: Vec<f32> = (0..g.weight_len()).map(|i| ((i * 5 % 11) as f32) * 0.5 - 2.0).collect();
        // Offsets in (-2, 2) with fractional parts in [0.2, 0.8].
        let offset: Vec<f32> = (0..g.offset_len()).map(|i| (((i * 3 % 4) as f32) - 2.0) + 0.2 + ((i % 7) as f32) * 0.1).collect();
        let mask: Vec<f32> = (0..g.mask_len()).map(|i| 0.25 + ((i * 3 % 5) as f32) * 0.15).collect();
        let dy: Vec<f32> = (0..g.output_len()).map(|i| ((i * 11 % 7) as f32) - 3.0).collect();
        let loss = |x: &[f32], o: &[f32], w: &[f32], m: &[f32]| -> f64 {
            deform_conv_forward(&g, x, o, Some(m), w, None).iter().zip(&dy).map(|(a, b)| *a as f64 * *b as f64).sum()
        };
        let grads = deform_conv_backward(&g, &x, &offset, Some(&mask), &w, &dy, true);
        let eps = 1e-2f32;
        let check = |name: &str, values: &[f32], analytic: &[f32], perturb: &dyn Fn(usize, f32) -> f64| {
            for i in 0..values.len() {
                let numeric = (perturb(i, eps) - perturb(i, -eps)) / (2.0 * eps as f64);
                assert!((numeric - analytic[i] as f64).abs() <= 2e-2 * (1.0 + numeric.abs()), "{name}[{i}]: numeric {numeric} vs analytic {}", analytic[i]);
            }
        };
        let with = |v: &[f32], i: usize, d: f32| {
            let mut v = v.to_vec();
            v[i] += d;
            v
        };
        check("input", &x, &grads.input, &|i, d| loss(&with(&x, i, d), &offset, &w, &mask));
        check("offset", &offset, &grads.offset, &|i, d| loss(&x, &with(&offset, i, d), &w, &mask));
        check("weight", &w, &grads.weight, &|i, d| loss(&x, &offset, &with(&w, i, d), &mask));
        check("mask", &mask, grads.mask.as_ref().unwrap(), &|i, d| loss(&x, &offset, &w, &with(&mask, i, d)));
    }

    #[test]
    fn bilinear_reads_zeros_outside() {
        let plane = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(bilinear(&plane, 2, 2, 0.5, 0.5), 2.5);
        assert_eq!(bilinear(&plane, 2, 2, -0.5, 0.0), 0.5);
        assert_eq!(bilinear(&plane, 2, 2, -1.0, 0.0), 0.0);
        assert_eq!(bilinear(&plane, 2, 2, 1.5, 1.0), 2.0);
    }
}
