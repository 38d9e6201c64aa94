//! Transposed convolution as GEMM + col2im: for each group, `cols = W^T * X` over the same packed
//! microkernel as the forward convolution, then every column is scattered (added) into the output
//! at `in * stride - padding + tap * dilation`. No zero insertion.

use crate::error::ConvError;
use crate::geometry::{checked_len, lift};
use crate::gemm::{gemm_packed, pack_a, pack_b_gathered, NR};

#[derive(Clone, Debug)]
pub struct TransposeParams {
    pub stride: Vec<usize>,
    pub padding: Vec<usize>,
    pub output_padding: Vec<usize>,
    pub dilation: Vec<usize>,
    pub groups: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransposeGeometry {
    pub spatial_dims: usize,
    pub batch: usize,
    pub in_channels: usize,
    pub out_channels: usize,
    pub groups: usize,
    pub in_size: [usize; 3],
    pub kernel: [usize; 3],
    pub out_size: [usize; 3],
    pub stride: [usize; 3],
    pub padding: [usize; 3],
    pub dilation: [usize; 3],
}

impl TransposeGeometry {
    /// `input` `[N, Cin, ...]`, `weight` `[Cin, Cout/groups, ...kernel]`.
    pub fn new(input: &[usize], weight: &[usize], bias_len: Option<usize>, p: &TransposeParams) -> Result<Self, ConvError> {
        let dims = input.len().wrapping_sub(2);
        if !(1..=3).contains(&dims) || weight.len() != input.len() {
            return Err(ConvError::invalid("input and weight must both have 3 to 5 dimensions"));
        }
        for v in [&p.stride, &p.padding, &p.output_padding, &p.dilation] {
            if v.len() != dims {
                return Err(ConvError::invalid(format!("options must have {dims} entries per axis")));
            }
        }
        if p.stride.contains(&0) || p.dilation.contains(&0) {
            return Err(ConvError::invalid("stride and dilation must be >= 1"));
        }
        if input[1..].contains(&0) || weight.contains(&0) {
            return Err(ConvError::invalid("input and weight must not have empty dimensions"));
        }
        let groups = p.groups;
        if groups == 0 || input[1] % groups != 0 {
            return Err(ConvError::invalid(format!("groups={groups} must divide the input channels ({})", input[1])));
        }
        if weight[0] != input[1] {
            return Err(ConvError::shape(format!(
                "weight has {} input channels but input has {}",
                weight[0], input[1]
            )));
        }
        let out_channels = weight[1].checked_mul(groups).ok_or_else(|| ConvError::out_of_memory("output channels overflow"))?;
        if let Some(len) = bias_len {
            if len != out_channels {
                return Err(ConvError::shape(format!("bias has {len} elements, expected {out_channels}")));
            }
        }
        let mut out = [1; 3];
        for a in 0..dims {
            let (s, d, op) = (p.stride[a], p.dilation[a], p.output_padding[a]);
            if op >= s && op >= d {
                return Err(ConvError::invalid(format!(
                    "outputPadding {op} must be smaller than either stride {s} or dilation {d}"
                )));
            }
            // i128 with saturating products: no size a caller can pass overflows, on any target.
            let size = (input[2 + a] as i128 - 1)
                .saturating_mul(s as i128)
                .saturating_add((d as i128).saturating_mul(weight[2 + a] as i128 - 1))
                .saturating_add(op as i128 + 1)
                .saturating_sub(2 * p.padding[a] as i128);
            if size < 1 {
                return Err(ConvError::invalid(format!("the output would be empty on axis {a}")));
            }
            out[3 - dims + a] = usize::try_from(size).map_err(|_| ConvError::out_of_memory(format!("the output size {size} on axis {a} is too large")))?;
        }
        checked_len("output", &[input[0], out_channels, out[0], out[1], out[2]])?;
        checked_len("input", input)?;
        Ok(TransposeGeometry {
            spatial_dims: dims,
            batch: input[0],
            in_channels: input[1],
            out_channels,
            groups,
            in_size: lift(&input[2..], 1),
            kernel: lift(&weight[2..], 1),
            out_size: out,
            stride: lift(&p.stride, 1),
            padding: lift(&p.padding, 0),
            dilation: lift(&p.dilation, 1),
        })
    }

    pub fn output_len(&self) -> usize {
        self.batch * self.out_channels * self.out_size.iter().product::<usize>()
    }
    pub fn input_len(&self) -> usize {
        self.batch * self.in_channels * self.in_size.iter().product::<usize>()
    }
    pub fn weight_len(&self) -> usize {
        self.in_channels * (self.out_channels / self.groups) * self.kernel.iter().product::<usize>()
    }
}

/// Output positions covered by each (tap, input position) pair along one axis, or `None` when the
/// target falls into the cropped padding.
fn axis_targets(g: &TransposeGeometry, a: usize) -> Vec<Vec<Option<usize>>> {
    (0..g.kernel[a])
        .map(|k| {
            (0..g.in_size[a])
                .map(|i| {
                    let t = (i * g.stride[a] + k * g.dilation[a]) as isize - g.padding[a] as isize;
                    (t >= 0 && t < g.out_size[a] as isize).then_some(t as usize)
                })
                .collect()
        })
        .collect()
}

pub fn conv_transpose_forward(g: &TransposeGeometry, input: &[f32], weight: &[f32], bias: Option<&[f32]>) -> Vec<f32> {
    let in_plane: usize = g.in_size.iter().product();
    let out_plane: usize = g.out_size.iter().product();
    let taps: usize = g.kernel.iter().product();
    let (cin_g, cout_g) = (g.in_channels / g.groups, g.out_channels / g.groups);
    let m = cout_g * taps;
    let targets: [Vec<Vec<Option<usize>>>; 3] = std::array::from_fn(|a| axis_targets(g, a));
    let mut output = vec![0.0; g.output_len()];
    for (c, plane) in output.chunks_mut(out_plane).enumerate() {
        plane.fill(bias.map_or(0.0, |b| b[c % g.out_channels]));
    }
    // Bound the column buffer: `m` rows times a block of input positions.
    let block = ((256 * 1024 / 4) / m.max(1)).max(NR) / NR * NR;
    let row_offsets: Vec<usize> = (0..cin_g).map(|ci| ci * in_plane).collect();
    let column_offsets: Vec<usize> = (0..in_plane).collect();
    let (mut a_packed, mut b_packed, mut cols) = (Vec::new(), Vec::new(), Vec::new());
    for group in 0..g.groups {
        // A = W_g^T: row (co, tap), column ci.
        let w_g = &weight[group * cin_g * m..(group + 1) * cin_g * m];
        let mut a_t = vec![0.0; m * cin_g];
        for ci in 0..cin_g {
            for r in 0..m {
                a_t[r * cin_g + ci] = w_g[ci * m + r];
            }
        }
        pack_a(&a_t, m, cin_g, cin_g, &mut a_packed);
        for n in 0..g.batch {
            let x = &input[(n * g.in_channels + group * cin_g) * in_plane..][..cin_g * in_plane];
            let out_g = &mut output[(n * g.out_channels + group * cout_g) * out_plane..][..cout_g * out_plane];
            for p0 in (0..in_plane).step_by(block) {
                let ncols = block.min(in_plane - p0);
                pack_b_gathered(x, &row_offsets, &column_offsets[p0..p0 + ncols], &mut b_packed);
                cols.clear();
                cols.resize(m * ncols, 0.0);
                gemm_packed(m, ncols, cin_g, &a_packed, &b_packed, None, &mut cols, ncols);
                scatter_columns(g, &targets, &cols, p0, ncols, out_g);
            }
        }
    }
    output
}

/// col2im: adds column `p` of row (co, tap) to the output position that tap reaches from input
/// position `p0 + p`.
fn scatter_columns(g: &TransposeGeometry, targets: &[Vec<Vec<Option<usize>>>; 3], cols: &[f32], p0: usize, ncols: usize, out: &mut [f32]) {
    let [_, ih, iw] = g.in_size;
    let [_, oh, ow] = g.out_size;
    let [kd, kh, kw] = g.kernel;
    let out_plane: usize = g.out_size.iter().product();
    let taps = kd * kh * kw;
    for (r, row) in cols.chunks_exact(ncols).enumerate() {
        let (co, tap) = (r / taps, r % taps);
        let (td, th, tw) = (tap / (kh * kw), (tap / kw) % kh, tap % kw);
        let out_c = &mut out[co * out_plane..(co + 1) * out_plane];
        for (j, &v) in row.iter().enumerate() {
            let p = p0 + j;
            let (id, rem) = (p / (ih * iw), p % (ih * iw));
            let (y, x) = (rem / iw, rem % iw);
            if let (Some(z), Some(yy), Some(xx)) = (targets[0][td][id], targets[1][th][y], targets[2][tw][x]) {
                out_c[(z * oh + yy) * ow + xx] += v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scatter reference straight from the definition.
    fn naive(g: &TransposeGeometry, x: &[f32], w: &[f32]) -> Vec<f32> {
        let mut out = vec![0.0f32; g.output_len()];
        let (cin_g, cout_g) = (g.in_channels / g.groups, g.out_channels / g.groups);
        let [id, ih, iw] = g.in_size;
        let [kd, kh, kw] = g.kernel;
        let [od, oh, ow] = g.out_size;
        for n in 0..g.batch {
            for ci in 0..g.in_channels {
                let group = ci / cin_g;
                for (z, y, xx) in (0..id).flat_map(|z| (0..ih).flat_map(move |y| (0..iw).map(move |x| (z, y, x)))) {
                    let v = x[(((n * g.in_channels + ci) * id + z) * ih + y) * iw + xx];
                    for col in 0..cout_g {
                        for (a, b, c) in (0..kd).flat_map(|a| (0..kh).flat_map(move |b| (0..kw).map(move |c| (a, b, c)))) {
                            let t = |i: usize, k: usize, ax: usize| (i * g.stride[ax] + k * g.dilation[ax]) as isize - g.padding[ax] as isize;
                            let (tz, ty, tx) = (t(z, a, 0), t(y, b, 1), t(xx, c, 2));
                            if tz < 0 || ty < 0 || tx < 0 || tz >= od as isize || ty >= oh as isize || tx >= ow as isize {
                                continue;
                            }
                            let co = group * cout_g + col;
                            let wv = w[(((ci * cout_g + col) * kd + a) * kh + b) * kw + c];
                            out[(((n * g.out_channels + co) * od + tz as usize) * oh + ty as usize) * ow + tx as usize] += v * wv;
                        }
                    }
                }
            }
        }
        out
    }

    #[test]
    fn matches_the_scatter_definition() {
        let cases: &[(&[usize], &[usize], TransposeParams)] = &[
            (&[2, 4, 5, 6], &[4, 3, 3, 2], TransposeParams { stride: vec![2, 1], padding: vec![1, 0], output_padding: vec![1, 0], dilation: vec![1, 2], groups: 1 }),
            (&[1, 6, 7], &[6, 1, 4], TransposeParams { stride: vec![3], padding: vec![2], output_padding: vec![2], dilation: vec![1], groups: 2 }),
            (&[1, 2, 3, 4, 3], &[2, 2, 2, 3, 2], TransposeParams { stride: vec![2, 1, 2], padding: vec![0, 1, 1], output_padding: vec![1, 0, 0], dilation: vec![1, 1, 2], groups: 1 }),
        ];
        for (xs, ws, p) in cases {
            let g = TransposeGeometry::new(xs, ws, None, p).unwrap();
            let x: Vec<f32> = (0..g.input_len()).map(|i| ((i * 7 % 13) as f32) - 6.0).collect();
            let w: Vec<f32> = (0..g.weight_len()).map(|i| ((i * 5 % 11) as f32) * 0.5 - 2.0).collect();
            assert_eq!(conv_transpose_forward(&g, &x, &w, None), naive(&g, &x, &w), "{xs:?} {ws:?} {p:?}");
        }
    }

    #[test]
    fn output_padding_must_be_below_stride_or_dilation() {
        let p = TransposeParams { stride: vec![2], padding: vec![0], output_padding: vec![2], dilation: vec![1], groups: 1 };
        assert!(TransposeGeometry::new(&[1, 1, 4], &[1, 1, 3], None, &p).is_err());
    }
}
