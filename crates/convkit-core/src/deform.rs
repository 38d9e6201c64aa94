//! Deformable convolution (torchvision `deform_conv2d`: DCNv1, and DCNv2 with a mask). Each kernel
//! tap samples the input bilinearly at its regular position plus a learned (dy, dx) offset, zeros
//! outside; the sampled columns then go through the same packed GEMM as im2col convolution.

use crate::conv::pack_columns;
use crate::error::ConvError;
use crate::gemm::{gemm_packed, pack_a, NR};

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
        let (c, cout, taps) = (input[1], weight[0], weight[2] * weight[3]);
        if c % p.groups != 0 || cout % p.groups != 0 || weight[1] * p.groups != c {
            return Err(ConvError::shape(format!("weight {weight:?} does not fit {c} input channels with groups={}", p.groups)));
        }
        if bias_len.is_some_and(|b| b != cout) {
            return Err(ConvError::shape("bias length must equal the output channels"));
        }
        let mut out = [0; 2];
        for a in 0..2 {
            let extent = p.dilation[a] * (weight[2 + a] - 1) + 1;
            let padded = input[2 + a] + 2 * p.padding[a];
            if extent > padded {
                return Err(ConvError::invalid("kernel extent larger than the padded input"));
            }
            out[a] = (padded - extent) / p.stride[a] + 1;
        }
        if offset[1] == 0 || offset[1] % (2 * taps) != 0 || c % (offset[1] / (2 * taps)) != 0 {
            return Err(ConvError::shape(format!("offset has {} channels; expected 2*offsetGroups*{taps} with offsetGroups dividing {c}", offset[1])));
        }
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

/// torchvision's bilinear sample of one `h x w` plane: zero outside, and corners outside the plane
/// count as zero.
#[inline]
pub fn bilinear(plane: &[f32], h: usize, w: usize, y: f32, x: f32) -> f32 {
    if y <= -1.0 || y >= h as f32 || x <= -1.0 || x >= w as f32 {
        return 0.0;
    }
    let (y0, x0) = (y.floor(), x.floor());
    let (ly, lx) = (y - y0, x - x0);
    let (y0, x0) = (y0 as isize, x0 as isize);
    let at = |yy: isize, xx: isize| {
        if yy >= 0 && xx >= 0 && yy < h as isize && xx < w as isize {
            plane[yy as usize * w + xx as usize]
        } else {
            0.0
        }
    };
    (1.0 - ly) * (1.0 - lx) * at(y0, x0) + (1.0 - ly) * lx * at(y0, x0 + 1) + ly * (1.0 - lx) * at(y0 + 1, x0) + ly * lx * at(y0 + 1, x0 + 1)
}

pub fn deform_conv_forward(g: &DeformGeometry, input: &[f32], offset: &[f32], mask: Option<&[f32]>, weight: &[f32], bias: Option<&[f32]>) -> Vec<f32> {
    let [h, w] = g.in_size;
    let [ho, wo] = g.out_size;
    let [kh, kw] = g.kernel;
    let (taps, p_len, plane) = (kh * kw, ho * wo, h * w);
    let (cin_g, cout_g) = (g.in_channels / g.groups, g.out_channels / g.groups);
    let channels_per_offset_group = g.in_channels / g.offset_groups;
    let k = cin_g * taps;
    let mut output = vec![0.0; g.batch * g.out_channels * p_len];
    let mut cols = vec![0.0; g.in_channels * taps * p_len];
    let (mut a_packed, mut b_packed) = (Vec::new(), Vec::new());
    let row_offsets: Vec<usize> = (0..k).map(|r| r * p_len).collect();
    let column_offsets: Vec<usize> = (0..p_len).collect();
    let block = ((256 * 1024 / 4) / k).max(NR) / NR * NR;
    for n in 0..g.batch {
        let offset_n = &offset[n * 2 * g.offset_groups * taps * p_len..][..2 * g.offset_groups * taps * p_len];
        for c in 0..g.in_channels {
            let og = c / channels_per_offset_group;
            let src = &input[(n * g.in_channels + c) * plane..][..plane];
            for tap in 0..taps {
                let (i, j) = (tap / kw, tap % kw);
                let dy = &offset_n[(og * 2 * taps + 2 * tap) * p_len..][..p_len];
                let dx = &offset_n[(og * 2 * taps + 2 * tap + 1) * p_len..][..p_len];
                let m = mask.map(|m| &m[((n * g.offset_groups + og) * taps + tap) * p_len..][..p_len]);
                let col = &mut cols[(c * taps + tap) * p_len..][..p_len];
                for oy in 0..ho {
                    for ox in 0..wo {
                        let p = oy * wo + ox;
                        let y = (oy * g.stride[0] + i * g.dilation[0]) as f32 - g.padding[0] as f32 + dy[p];
                        let x = (ox * g.stride[1] + j * g.dilation[1]) as f32 - g.padding[1] as f32 + dx[p];
                        let v = bilinear(src, h, w, y, x);
                        col[p] = m.map_or(v, |m| v * m[p]);
                    }
                }
            }
        }
        for group in 0..g.groups {
            pack_a(&weight[group * cout_g * k..][..cout_g * k], cout_g, k, &mut a_packed);
            let cols_g = &cols[group * k * p_len..][..k * p_len];
            let out_g = &mut output[(n * g.out_channels + group * cout_g) * p_len..][..cout_g * p_len];
            let group_bias = bias.map(|b| &b[group * cout_g..(group + 1) * cout_g]);
            for p0 in (0..p_len).step_by(block) {
                let ncols = block.min(p_len - p0);
                pack_columns(cols_g, &row_offsets, &column_offsets[p0..p0 + ncols], &mut b_packed);
                gemm_packed(cout_g, ncols, k, &a_packed, &b_packed, group_bias, &mut out_g[p0..], p_len);
            }
        }
    }
    output
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

    #[test]
    fn bilinear_reads_zeros_outside() {
        let plane = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(bilinear(&plane, 2, 2, 0.5, 0.5), 2.5);
        assert_eq!(bilinear(&plane, 2, 2, -0.5, 0.0), 0.5);
        assert_eq!(bilinear(&plane, 2, 2, -1.0, 0.0), 0.0);
        assert_eq!(bilinear(&plane, 2, 2, 1.5, 1.0), 2.0);
    }
}
