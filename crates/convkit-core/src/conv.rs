//! Convolution executors. All pad with the shared padding mechanism (`PaddedImage`: the image at
//! once, or one channel at a time for depthwise; unpadded inputs are read in place) and then run a
//! "valid" convolution over the padded copy: im2col + GEMM here, the direct tiles in `direct.rs`
//! and `depthwise.rs`, Winograd in `winograd.rs`, FFT in `fft_conv.rs`.

use std::borrow::Cow;

use crate::depthwise::depthwise;
use crate::direct::direct;
use crate::error::ConvError;
use crate::fft_conv::{fft_conv, FftWeights};
use crate::geometry::{ConvGeometry, ConvParams};
use crate::gemm::{gemm_im2col, gemm_packed, pack_a, pack_b_gathered, MR};
use crate::padding::PaddedImage;
use crate::plan::{plan_conv, Algorithm, ConvPlan};
use crate::winograd::{winograd, WinogradScratch, WinogradWeights};

/// Validates, plans and runs a convolution. Returns the output and its shape.
pub fn conv_forward(
    input: &[f32],
    input_shape: &[usize],
    weight: &[f32],
    weight_shape: &[usize],
    bias: Option<&[f32]>,
    params: &ConvParams,
    algorithm: Algorithm,
) -> Result<(Vec<f32>, Vec<usize>), ConvError> {
    let g = ConvGeometry::new(input_shape, weight_shape, bias.map(<[f32]>::len), params)?;
    if input.len() != g.input_len() {
        return Err(ConvError::shape(format!(
            "input data has {} elements but its shape {input_shape:?} needs {}",
            input.len(),
            g.input_len()
        )));
    }
    if weight.len() != g.weight_len() {
        return Err(ConvError::shape(format!(
            "weight data has {} elements but its shape {weight_shape:?} needs {}",
            weight.len(),
            g.weight_len()
        )));
    }
    let plan = plan_conv(&g, algorithm)?;
    let mut output = vec![0.0; g.output_len()];
    ConvOperator::new(&g, plan, weight).run(input, bias, &mut output);
    Ok((output, g.output_shape()))
}

/// Runs `plan` for a validated geometry; `output` has `g.output_len()` elements.
pub fn execute(g: &ConvGeometry, plan: &ConvPlan, input: &[f32], weight: &[f32], bias: Option<&[f32]>, output: &mut [f32]) {
    ConvOperator::new(g, plan.clone(), weight).run(input, bias, output);
}

/// A convolution prepared once for one geometry and one weight: the plan, the weights in the form
/// its executor reads (packed GEMM panels, Winograd transforms, ...) and scratch buffers, all
/// reused by every `run` (any batch size). Callers cache operators by weight to skip the preparation.
pub struct ConvOperator {
    g: ConvGeometry,
    plan: ConvPlan,
    weights: PreparedWeights,
    padded: PaddedImage,
    scratch: Scratch,
}

enum PreparedWeights {
    /// The direct loops read the weights as they are (flipped when the call flips).
    Plain(Vec<f32>),
    /// im2col: each group's `[Cout/g x Cin/g*taps]` matrix in `pack_a`'s layout, one after another.
    Packed(Vec<f32>),
    Winograd(WinogradWeights),
    Fft(FftWeights),
}

impl ConvOperator {
    /// `weight` has `g.weight_len()` elements (validated by the caller).
    pub fn new(g: &ConvGeometry, plan: ConvPlan, weight: &[f32]) -> Self {
        let weight = if g.flip { Cow::Owned(flip_kernels(weight, g.kernel_volume())) } else { Cow::Borrowed(weight) };
        let weights = match &plan {
            ConvPlan::Direct | ConvPlan::Depthwise => PreparedWeights::Plain(weight.into_owned()),
            ConvPlan::Im2col { .. } => {
                let (cout_g, k) = (g.out_channels_per_group(), g.in_channels_per_group() * g.kernel_volume());
                let (mut all, mut group_panels) = (Vec::new(), Vec::new());
                for group in weight.chunks_exact(cout_g * k) {
                    pack_a(group, cout_g, k, k, &mut group_panels);
                    all.extend_from_slice(&group_panels);
                }
                PreparedWeights::Packed(all)
            }
            ConvPlan::Winograd { tile, .. } => PreparedWeights::Winograd(WinogradWeights::new(g, *tile, &weight)),
            ConvPlan::Fft { tile, .. } => PreparedWeights::Fft(FftWeights::new(g, *tile, &weight)),
        };
        ConvOperator { g: g.clone(), plan, weights, padded: PaddedImage::default(), scratch: Scratch::default() }
    }

    pub fn plan(&self) -> &ConvPlan {
        &self.plan
    }

    /// Bytes the operator keeps between runs (prepared weights and scratch).
    pub fn retained_bytes(&self) -> usize {
        let weights = match &self.weights {
            PreparedWeights::Plain(w) | PreparedWeights::Packed(w) => w.len(),
            PreparedWeights::Winograd(w) => w.len(),
            PreparedWeights::Fft(w) => w.len(),
        };
        (weights + self.padded.capacity() + self.scratch.len()) * std::mem::size_of::<f32>()
    }

    /// Convolves `input` (any whole number of images of the prepared size) into `output`.
    pub fn run(&mut self, input: &[f32], bias: Option<&[f32]>, output: &mut [f32]) {
        let g = &self.g;
        let image_len = g.in_channels * g.in_plane();
        let out_image_len = g.out_channels * g.out_plane();
        for (image, out) in input.chunks_exact(image_len).zip(output.chunks_exact_mut(out_image_len)) {
            if let (ConvPlan::Depthwise, PreparedWeights::Plain(w)) = (&self.plan, &self.weights) {
                // Pads one channel at a time: `padded` holds a single plane, which stays in cache.
                depthwise(g, image, w, bias, out, &mut self.padded);
                continue;
            }
            // Without padding the executors read the input where it is.
            let padded = if g.pad_before == [0; 3] && g.pad_after == [0; 3] {
                image
            } else {
                self.padded.fill(image, g.in_channels, &g.padding(), 0)
            };
            match (&self.plan, &self.weights) {
                (ConvPlan::Direct, PreparedWeights::Plain(w)) => direct(g, padded, w, bias, out),
                (ConvPlan::Im2col { column_block }, PreparedWeights::Packed(w)) => {
                    im2col_gemm(g, *column_block, padded, w, bias, out, &mut self.scratch)
                }
                (ConvPlan::Winograd { tile_block, .. }, PreparedWeights::Winograd(w)) => {
                    winograd(g, *tile_block, padded, w, bias, out, &mut self.scratch.winograd)
                }
                (ConvPlan::Fft { fold, .. }, PreparedWeights::Fft(w)) => fft_conv(g, *fold, w, padded, bias, out),
                _ => unreachable!("weights are prepared for the plan"),
            }
        }
    }
}

/// Reverses every kernel's taps: rotating by 180 degrees turns cross-correlation into convolution.
pub(crate) fn flip_kernels(weight: &[f32], kernel_volume: usize) -> Vec<f32> {
    weight.chunks_exact(kernel_volume).flat_map(|k| k.iter().rev().copied()).collect()
}

/// Offset of each kernel tap `(kd, kh, kw)` inside one padded channel plane.
fn tap_offsets(g: &ConvGeometry) -> Vec<usize> {
    let [_, ph, pw] = g.padded_size();
    let mut offsets = Vec::with_capacity(g.kernel_volume());
    for kd in 0..g.kernel[0] {
        for kh in 0..g.kernel[1] {
            for kw in 0..g.kernel[2] {
                offsets.push(((kd * g.dilation[0]) * ph + kh * g.dilation[1]) * pw + kw * g.dilation[2]);
            }
        }
    }
    offsets
}

/// Where the im2col matrix of one group reads the padded image: row (ci, tap) starts at
/// `row_offsets[row]` and column p (an output position) adds `column_offsets[p]`.
pub(crate) fn im2col_offsets(g: &ConvGeometry) -> (Vec<usize>, Vec<usize>) {
    let [_, ph, pw] = g.padded_size();
    let padded_plane = g.padded_size().iter().product::<usize>();
    let taps = tap_offsets(g);
    let row_offsets = (0..g.in_channels_per_group()).flat_map(|ci| taps.iter().map(move |&t| ci * padded_plane + t)).collect();
    let mut column_offsets = Vec::with_capacity(g.out_plane());
    for od in 0..g.out_size[0] {
        for oh in 0..g.out_size[1] {
            for ow in 0..g.out_size[2] {
                column_offsets.push((od * g.stride[0] * ph + oh * g.stride[1]) * pw + ow * g.stride[2]);
            }
        }
    }
    (row_offsets, column_offsets)
}

#[derive(Default)]
struct Scratch {
    b_packed: Vec<f32>,
    winograd: WinogradScratch,
}

impl Scratch {
    fn len(&self) -> usize {
        self.b_packed.capacity() + self.winograd.len()
    }
}

/// Packed weights of a group up to this size stay in L2 while B panels stream past them, so a
/// stride-1 convolution reads its B panels in place (`gemm_im2col`) instead of packing them. Not a
/// 1x1 one: its panel rows are whole channel planes apart, one page each, and reading them in place
/// measured slower than packing (S3: 4.5 against 3.8 ms).
const IN_PLACE_WEIGHT_BYTES: usize = 128 * 1024;

fn im2col_gemm(
    g: &ConvGeometry,
    column_block: usize,
    padded: &[f32],
    packed_weight: &[f32],
    bias: Option<&[f32]>,
    out: &mut [f32],
    scratch: &mut Scratch,
) {
    let padded_plane = g.padded_size().iter().product::<usize>();
    let (cin_g, cout_g) = (g.in_channels_per_group(), g.out_channels_per_group());
    let (row_offsets, column_offsets) = im2col_offsets(g);
    let k = row_offsets.len();
    let out_plane = g.out_plane();
    let panels = cout_g.div_ceil(MR) * MR * k;
    let in_place = g.stride[2] == 1 && g.kernel_volume() > 1 && panels * std::mem::size_of::<f32>() <= IN_PLACE_WEIGHT_BYTES;
    for group in 0..g.groups {
        let src = &padded[group * cin_g * padded_plane..(group + 1) * cin_g * padded_plane];
        let a_packed = &packed_weight[group * panels..(group + 1) * panels];
        let group_bias = bias.map(|b| &b[group * cout_g..(group + 1) * cout_g]);
        let out_g = &mut out[group * cout_g * out_plane..(group + 1) * cout_g * out_plane];
        if in_place {
            gemm_im2col(cout_g, a_packed, src, &row_offsets, &column_offsets, group_bias, out_g, out_plane, &mut scratch.b_packed);
            continue;
        }
        for p0 in (0..out_plane).step_by(column_block) {
            let cols = column_block.min(out_plane - p0);
            pack_b_gathered(src, &row_offsets, &column_offsets[p0..p0 + cols], &mut scratch.b_packed);
            gemm_packed(cout_g, cols, k, a_packed, &scratch.b_packed, group_bias, &mut out_g[p0..], out_plane);
        }
    }
}
