//! Transposed convolution: geometry and validation, and the forward pass as stride^dims sub-pixel
//! convolutions over the same packed GEMM as the forward convolution.

use crate::error::ConvError;
use crate::geometry::{checked_len, lift};
use crate::gemm::{gemm_packed, pack_a, pack_b_gathered, MR, NR};
use crate::padding::{ImagePadding, PaddedImage, PaddingMode};

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

/// One output phase of one axis: the outputs `o = q * stride + rho - padding` for `q` in `q0..q1`,
/// and the taps `t` with `t * dilation % stride == rho`, each reading input `q - m` (`m = (t *
/// dilation - rho) / stride`). Every phase is an ordinary stride-1 convolution.
struct AxisPhase {
    rho: usize,
    q0: usize,
    q1: usize,
    taps: Vec<(usize, usize)>,
}

/// Splits one axis into its `stride` output phases and returns them with the zero padding
/// (before, after) the input needs so that every phase reads in bounds.
fn axis_phases(g: &TransposeGeometry, a: usize) -> (Vec<AxisPhase>, usize, usize) {
    let (s, d, p) = (g.stride[a], g.dilation[a], g.padding[a]);
    let (size_in, size_out) = (g.in_size[a], g.out_size[a]);
    let (mut before, mut after) = (0, 0);
    let phases: Vec<AxisPhase> = (0..s)
        .map(|rho| {
            let taps: Vec<(usize, usize)> =
                (0..g.kernel[a]).filter(|t| t * d % s == rho).map(|t| (t, (t * d - rho) / s)).collect();
            let q0 = p.saturating_sub(rho).div_ceil(s);
            let q1 = (size_out + p).saturating_sub(rho).div_ceil(s).max(q0);
            if q1 > q0 {
                if let (Some(&(_, m_min)), Some(&(_, m_max))) = (taps.first(), taps.last()) {
                    before = before.max(m_max.saturating_sub(q0));
                    after = after.max((q1 - 1).saturating_sub(m_min + size_in - 1));
                }
            }
            AxisPhase { rho, q0, q1, taps }
        })
        .collect();
    (phases, before, after)
}

/// One output phase of the whole problem, as a stride-1 convolution over the padded input: the
/// GEMM `[Cout/groups x k] * [k x columns]` whose B is gathered at `row_offsets[row] +
/// column_offsets[col]` and whose column `col` lands at output position `targets[col]`.
struct Phase {
    k: usize,
    row_offsets: Vec<usize>,
    column_offsets: Vec<usize>,
    targets: Vec<usize>,
    /// Columns per GEMM call: bounds the packed B to `k` rows times this many output positions.
    block: usize,
    /// Each group's `[Cout/groups x k]` weight matrix in `pack_a`'s layout, one after another.
    a_packed: Vec<f32>,
}

/// A transposed convolution prepared once for one geometry and one weight: the phases with their
/// gather tables and packed weights, and scratch buffers, all reused by every `run` (any batch size).
pub struct TransposeOperator {
    g: TransposeGeometry,
    /// The input's zero padding, wide enough for every phase's taps.
    padding: ImagePadding,
    phases: Vec<Phase>,
    padded: PaddedImage,
    b_packed: Vec<f32>,
    tile: Vec<f32>,
}

impl TransposeOperator {
    /// `weight` has `g.weight_len()` elements (validated by the caller); `g.batch` is not used.
    pub fn new(g: &TransposeGeometry, weight: &[f32]) -> Self {
        let taps: usize = g.kernel.iter().product();
        let (cin_g, cout_g) = (g.in_channels / g.groups, g.out_channels / g.groups);
        let axes: [(Vec<AxisPhase>, usize, usize); 3] = std::array::from_fn(|a| axis_phases(g, a));
        let padding = ImagePadding {
            size: g.in_size,
            before: [axes[0].1, axes[1].1, axes[2].1],
            after: [axes[0].2, axes[1].2, axes[2].2],
            mode: PaddingMode::Zeros,
        };
        let pad_before = padding.before;
        let padded = padding.padded_size();
        let padded_plane: usize = padded.iter().product();
        let mut phases = Vec::new();
        let (mut a_dense, mut group_panels) = (Vec::new(), Vec::new());
        let (d_phases, h_phases, w_phases) = (&axes[0].0, &axes[1].0, &axes[2].0);
        for (pd, ph, pw) in d_phases.iter().flat_map(|pd| h_phases.iter().flat_map(move |ph| w_phases.iter().map(move |pw| (pd, ph, pw)))) {
            let counts = [pd.q1 - pd.q0, ph.q1 - ph.q0, pw.q1 - pw.q0];
            if counts.contains(&0) {
                continue;
            }
            // Offsets into the padded input: row (ci, tap) starts where output q0 reads; column = q - q0.
            let phase_taps: Vec<(usize, usize)> = pd
                .taps
                .iter()
                .flat_map(|&(td, md)| ph.taps.iter().flat_map(move |&(th, mh)| pw.taps.iter().map(move |&(tw, mw)| ((td, th, tw), (md, mh, mw)))))
                .map(|((td, th, tw), (md, mh, mw))| {
                    let base = |q0: usize, m: usize, a: usize| q0 + pad_before[a] - m;
                    let offset = (base(pd.q0, md, 0) * padded[1] + base(ph.q0, mh, 1)) * padded[2] + base(pw.q0, mw, 2);
                    ((td * g.kernel[1] + th) * g.kernel[2] + tw, offset)
                })
                .collect();
            let k = cin_g * phase_taps.len();
            let row_offsets = (0..cin_g).flat_map(|ci| phase_taps.iter().map(move |&(_, off)| ci * padded_plane + off)).collect();
            let positions = || (0..counts[0]).flat_map(|z| (0..counts[1]).flat_map(move |y| (0..counts[2]).map(move |x| (z, y, x))));
            let column_offsets = positions().map(|(z, y, x)| (z * padded[1] + y) * padded[2] + x).collect();
            let targets = positions()
                .map(|(z, y, x)| {
                    let o = |q: usize, phase: &AxisPhase, a: usize| q * g.stride[a] + phase.rho - g.padding[a];
                    (o(pd.q0 + z, pd, 0) * g.out_size[1] + o(ph.q0 + y, ph, 1)) * g.out_size[2] + o(pw.q0 + x, pw, 2)
                })
                .collect();
            let block = ((256 * 1024 / 4) / k.max(1)).max(NR) / NR * NR;
            let mut a_packed = Vec::new();
            for group in 0..g.groups {
                // A: row co, column (ci, phase tap), from the [Cin, Cout/groups, ...k] weight.
                a_dense.clear();
                a_dense.resize(cout_g * k, 0.0);
                for co in 0..cout_g {
                    for ci in 0..cin_g {
                        for (j, &(tap, _)) in phase_taps.iter().enumerate() {
                            a_dense[co * k + ci * phase_taps.len() + j] = weight[((group * cin_g + ci) * cout_g + co) * taps + tap];
                        }
                    }
                }
                pack_a(&a_dense, cout_g, k, k, &mut group_panels);
                a_packed.extend_from_slice(&group_panels);
            }
            phases.push(Phase { k, row_offsets, column_offsets, targets, block, a_packed });
        }
        TransposeOperator { g: g.clone(), padding, phases, padded: PaddedImage::default(), b_packed: Vec::new(), tile: Vec::new() }
    }

    /// Bytes the operator keeps between runs (packed weights, gather tables and scratch).
    pub fn retained_bytes(&self) -> usize {
        let floats = self.phases.iter().map(|p| p.a_packed.len()).sum::<usize>()
            + self.padded.capacity()
            + self.b_packed.capacity()
            + self.tile.capacity();
        let indices: usize = self.phases.iter().map(|p| p.row_offsets.len() + p.column_offsets.len() + p.targets.len()).sum();
        floats * std::mem::size_of::<f32>() + indices * std::mem::size_of::<usize>()
    }

    /// Transposed-convolves `input` (any whole number of images of the prepared size) into
    /// `output`, writing every element of it.
    pub fn run(&mut self, input: &[f32], bias: Option<&[f32]>, output: &mut [f32]) {
        let g = &self.g;
        let in_image = g.in_channels * g.in_size.iter().product::<usize>();
        let out_plane: usize = g.out_size.iter().product();
        let (cin_g, cout_g) = (g.in_channels / g.groups, g.out_channels / g.groups);
        let padded_plane: usize = self.padding.padded_size().iter().product();
        for (image, out) in input.chunks_exact(in_image).zip(output.chunks_exact_mut(g.out_channels * out_plane)) {
            // Padded once per image; every phase reads it.
            let padded = self.padded.fill(image, g.in_channels, &self.padding, 0);
            for phase in &self.phases {
                let (k, columns) = (phase.k, phase.targets.len());
                let group_panels = cout_g.div_ceil(MR) * MR * k;
                for group in 0..g.groups {
                    let x = &padded[group * cin_g * padded_plane..][..cin_g * padded_plane];
                    let a_packed = &phase.a_packed[group * group_panels..][..group_panels];
                    let group_bias = bias.map(|b| &b[group * cout_g..(group + 1) * cout_g]);
                    let out_g = &mut out[group * cout_g * out_plane..][..cout_g * out_plane];
                    for p0 in (0..columns).step_by(phase.block) {
                        let ncols = phase.block.min(columns - p0);
                        // No clear(): both branches below write the whole tile.
                        self.tile.resize(cout_g * ncols, 0.0);
                        let tile = &mut self.tile[..cout_g * ncols];
                        if k == 0 {
                            // No tap lands on this phase: its outputs are the bias alone.
                            for (co, row) in tile.chunks_exact_mut(ncols).enumerate() {
                                row.fill(group_bias.map_or(0.0, |b| b[co]));
                            }
                        } else {
                            pack_b_gathered(x, &phase.row_offsets, &phase.column_offsets[p0..p0 + ncols], &mut self.b_packed);
                            gemm_packed(cout_g, ncols, k, a_packed, &self.b_packed, group_bias, tile, ncols);
                        }
                        for (co, row) in tile.chunks_exact(ncols).enumerate() {
                            let out_c = &mut out_g[co * out_plane..(co + 1) * out_plane];
                            for (&v, &t) in row.iter().zip(&phase.targets[p0..p0 + ncols]) {
                                out_c[t] = v;
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Transposed convolution by sub-pixel decomposition (stride^dims phases, XNNPACK's approach): each
/// output phase is a stride-1 convolution of the zero-padded input with the taps that land on it,
/// run as im2col + GEMM and written to its strided output positions. No zero insertion, no col2im.
pub fn conv_transpose_forward(g: &TransposeGeometry, input: &[f32], weight: &[f32], bias: Option<&[f32]>) -> Vec<f32> {
    let mut output = vec![0.0; g.output_len()];
    TransposeOperator::new(g, weight).run(input, bias, &mut output);
    output
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scatter reference straight from the definition.
    fn naive(g: &TransposeGeometry, x: &[f32], w: &[f32], bias: Option<&[f32]>) -> Vec<f32> {
        let out_plane: usize = g.out_size.iter().product();
        let mut out: Vec<f32> = (0..g.output_len()).map(|i| bias.map_or(0.0, |b| b[i / out_plane % g.out_channels])).collect();
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
            // Kernel smaller than the stride: some phases get no tap and hold only the bias.
            (&[1, 3, 4, 5], &[3, 2, 1, 2], TransposeParams { stride: vec![3, 3], padding: vec![0, 1], output_padding: vec![2, 1], dilation: vec![1, 1], groups: 1 }),
            // Dilation sharing a factor with the stride, padding past the kernel reach, groups.
            (&[2, 4, 6, 5], &[4, 3, 3, 3], TransposeParams { stride: vec![2, 4], padding: vec![3, 2], output_padding: vec![1, 3], dilation: vec![2, 2], groups: 2 }),
            // The benchmark's shape class: k4 s2 p1.
            (&[1, 8, 9, 7], &[8, 4, 4, 4], TransposeParams { stride: vec![2, 2], padding: vec![1, 1], output_padding: vec![0, 1], dilation: vec![1, 1], groups: 1 }),
        ];
        for (xs, ws, p) in cases {
            let g = TransposeGeometry::new(xs, ws, None, p).unwrap();
            let x: Vec<f32> = (0..g.input_len()).map(|i| ((i * 7 % 13) as f32) - 6.0).collect();
            let w: Vec<f32> = (0..g.weight_len()).map(|i| ((i * 5 % 11) as f32) * 0.5 - 2.0).collect();
            assert_eq!(conv_transpose_forward(&g, &x, &w, None), naive(&g, &x, &w, None), "{xs:?} {ws:?} {p:?}");
        }
    }

    /// Small integers and halves: every sum is exact in f32, whatever the order.
    fn values(n: usize, seed: usize) -> Vec<f32> {
        (0..n).map(|i| ((i * 7 + seed) % 13) as f32 * 0.5 - 3.0).collect()
    }

    #[test]
    fn a_prepared_operator_reruns_on_any_batch_writing_its_whole_output() {
        let params = |stride: &[usize], padding: &[usize], output_padding: &[usize], dilation: &[usize], groups| TransposeParams {
            stride: stride.to_vec(),
            padding: padding.to_vec(),
            output_padding: output_padding.to_vec(),
            dilation: dilation.to_vec(),
            groups,
        };
        // (one image's shape, weight shape, options): strides 1 to 3, dilation, groups, output
        // padding, phases without taps, 1D to 3D, and phases wider than one GEMM block.
        let cases: &[(&[usize], &[usize], TransposeParams)] = &[
            (&[2, 5], &[2, 3, 3], params(&[1], &[1], &[0], &[1], 1)),
            (&[6, 7], &[6, 1, 4], params(&[3], &[2], &[2], &[1], 2)),
            (&[4, 5, 6], &[4, 3, 3, 2], params(&[2, 1], &[1, 0], &[1, 0], &[1, 2], 1)),
            (&[4, 6, 5], &[4, 3, 3, 3], params(&[2, 3], &[3, 2], &[1, 2], &[2, 2], 2)),
            (&[3, 4, 5], &[3, 2, 1, 2], params(&[3, 3], &[0, 1], &[2, 1], &[1, 1], 1)),
            (&[40, 24, 24], &[40, 2, 4, 4], params(&[2, 2], &[1, 1], &[0, 0], &[1, 1], 1)),
            (&[2, 3, 4, 3], &[2, 2, 2, 3, 2], params(&[2, 1, 2], &[0, 1, 1], &[1, 0, 0], &[1, 1, 2], 1)),
            (&[4, 3, 3, 3], &[4, 1, 3, 2, 2], params(&[3, 2, 1], &[1, 0, 0], &[0, 1, 0], &[1, 1, 2], 2)),
        ];
        for (image, ws, p) in cases {
            let geometry = |batch: usize| TransposeGeometry::new(&[&[batch], *image].concat(), ws, Some(ws[1] * p.groups), p).unwrap();
            let w = values(geometry(1).weight_len(), 1);
            let bias = values(ws[1] * p.groups, 2);
            let mut operator = TransposeOperator::new(&geometry(3), &w);
            let mut output = vec![0.0; geometry(3).output_len()];
            for (batch, seed) in [(3, 3), (1, 4), (3, 5)] {
                let g = geometry(batch);
                let x = values(g.input_len(), seed);
                let out = &mut output[..g.output_len()];
                out.fill(f32::NAN);
                operator.run(&x, Some(&bias), out);
                assert_eq!(out, naive(&g, &x, &w, Some(&bias)), "{image:?} {ws:?} {p:?} batch {batch}");
                let fresh = conv_transpose_forward(&g, &x, &w, Some(&bias));
                assert!(out.iter().zip(&fresh).all(|(a, b)| a.to_bits() == b.to_bits()), "{image:?} {ws:?}: reused and fresh operators differ");
            }
        }
    }

    #[test]
    fn output_padding_must_be_below_stride_or_dilation() {
        let p = TransposeParams { stride: vec![2], padding: vec![0], output_padding: vec![2], dilation: vec![1], groups: 1 };
        assert!(TransposeGeometry::new(&[1, 1, 4], &[1, 1, 3], None, &p).is_err());
    }
}
