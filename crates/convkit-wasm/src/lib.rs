//! The wasm-bindgen boundary: converts JS arrays to core types and core errors to JS errors.
//! No math lives here. Errors reach JS as `Error("<CODE>: <message>")`; the TypeScript wasm
//! backend turns them back into `ConvkitError`s.

use convkit_core::backward::{check_grad_output, conv_backward, conv_transpose_backward, Gradients};
use convkit_core::deform::{deform_conv_backward, deform_conv_forward, DeformGeometry, DeformGradients, DeformParams};
use convkit_core::pool::{pool_backward, pool_forward, PoolGeometry, PoolKind, PoolParams};
use convkit_core::transpose::{TransposeGeometry, TransposeOperator, TransposeParams};
use convkit_core::conv::ConvOperator;
use convkit_core::{plan_conv, Algorithm, ConvError, ConvGeometry, ConvParams, PaddingMode};
use wasm_bindgen::prelude::*;

fn to_js(e: ConvError) -> JsError {
    JsError::new(&e.to_string())
}

fn sizes(v: &[u32]) -> Vec<usize> {
    v.iter().map(|&x| x as usize).collect()
}

/// True when this binary was built with SIMD128.
#[wasm_bindgen(js_name = simdEnabled)]
pub fn simd_enabled() -> bool {
    convkit_core::simd::IS_SIMD
}

/// True when this binary was built with relaxed SIMD (fused multiply-add).
#[wasm_bindgen(js_name = relaxedSimdEnabled)]
pub fn relaxed_simd_enabled() -> bool {
    convkit_core::simd::IS_RELAXED
}

/// An N-d convolution prepared for one weight and one input size (channels-first): the plan and the
/// weights in its executor's form, kept in wasm memory so repeated calls skip the preparation. The
/// TypeScript side caches these by weight and frees them.
///
/// The kernel also owns its input and output buffers: JS writes the input straight into one and
/// copies the result out of the other, so a call allocates nothing in wasm memory and does not
/// zero an output the operator overwrites anyway.
#[wasm_bindgen]
pub struct ConvKernel {
    operator: ConvOperator,
    buffers: KernelBuffers,
}

#[wasm_bindgen]
impl ConvKernel {
    /// Validates the problem (`input_shape` with any batch) and prepares the weights.
    #[wasm_bindgen(constructor)]
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        input_shape: &[u32],
        weight: &[f32],
        weight_shape: &[u32],
        has_bias: bool,
        stride: &[u32],
        dilation: &[u32],
        pad_before: &[u32],
        pad_after: &[u32],
        padding_mode: u8,
        groups: u32,
        flip: bool,
        algorithm: u8,
    ) -> Result<ConvKernel, JsError> {
        let algorithm = Algorithm::from_code(algorithm)
            .ok_or_else(|| to_js(ConvError::invalid(format!("unknown algorithm code {algorithm}"))))?;
        let params = conv_params(stride, dilation, pad_before, pad_after, padding_mode, groups, flip)?;
        let bias_len = has_bias.then(|| weight_shape.first().copied().unwrap_or(0) as usize);
        let geometry = ConvGeometry::new(&sizes(input_shape), &sizes(weight_shape), bias_len, &params).map_err(to_js)?;
        check_lengths(&[("weight", weight.len(), geometry.weight_len())])?;
        let plan = plan_conv(&geometry, algorithm).map_err(to_js)?;
        let buffers = KernelBuffers::new(geometry.in_channels * geometry.in_plane(), geometry.out_channels, geometry.out_plane());
        Ok(ConvKernel { operator: ConvOperator::new(&geometry, plan, weight), buffers })
    }

    /// Sizes the input buffer for `batch` images and returns its address in wasm memory, where the
    /// caller writes the input before `run` (and before anything else allocates).
    #[wasm_bindgen(js_name = inputBuffer)]
    pub fn input_buffer(&mut self, batch: u32) -> *mut f32 {
        self.buffers.input(batch)
    }

    /// Convolves the images written at `inputBuffer`; returns the address of the flat output, valid
    /// until the kernel's next call.
    pub fn run(&mut self, bias: Option<Vec<f32>>) -> Result<*const f32, JsError> {
        let operator = &mut self.operator;
        self.buffers.run(bias, |input, bias, output| operator.run(input, bias, output))
    }

    /// Bytes this kernel keeps in wasm memory between runs.
    #[wasm_bindgen(js_name = retainedBytes)]
    pub fn retained_bytes(&self) -> usize {
        self.operator.retained_bytes() + self.buffers.bytes()
    }
}

/// A prepared kernel's own input and output buffers in wasm memory, sized per call by the batch.
struct KernelBuffers {
    in_image: usize,
    out_channels: usize,
    out_plane: usize,
    input: Vec<f32>,
    output: Vec<f32>,
}

impl KernelBuffers {
    fn new(in_image: usize, out_channels: usize, out_plane: usize) -> Self {
        KernelBuffers { in_image, out_channels, out_plane, input: Vec::new(), output: Vec::new() }
    }

    /// Sizes the input for `batch` images; returns its address.
    fn input(&mut self, batch: u32) -> *mut f32 {
        self.input.resize(batch as usize * self.in_image, 0.0);
        self.input.as_mut_ptr()
    }

    /// Checks the bias, sizes the output for the input's batch and runs `compute`, which writes
    /// every output element; returns the output's address.
    fn run(&mut self, bias: Option<Vec<f32>>, compute: impl FnOnce(&[f32], Option<&[f32]>, &mut [f32])) -> Result<*const f32, JsError> {
        if bias.as_ref().is_some_and(|b| b.len() != self.out_channels) {
            return Err(to_js(ConvError::shape(format!("bias must have {} elements", self.out_channels))));
        }
        let batch = self.input.len() / self.in_image.max(1);
        self.output.resize(batch * self.out_channels * self.out_plane, 0.0);
        compute(&self.input, bias.as_deref(), &mut self.output);
        Ok(self.output.as_ptr())
    }

    fn bytes(&self) -> usize {
        (self.input.capacity() + self.output.capacity()) * std::mem::size_of::<f32>()
    }
}

fn conv_params(
    stride: &[u32],
    dilation: &[u32],
    pad_before: &[u32],
    pad_after: &[u32],
    padding_mode: u8,
    groups: u32,
    flip: bool,
) -> Result<ConvParams, JsError> {
    let padding_mode = PaddingMode::from_code(padding_mode)
        .ok_or_else(|| to_js(ConvError::invalid(format!("unknown padding mode code {padding_mode}"))))?;
    Ok(ConvParams {
        stride: sizes(stride),
        dilation: sizes(dilation),
        pad_before: sizes(pad_before),
        pad_after: sizes(pad_after),
        padding_mode,
        groups: groups as usize,
        flip,
    })
}

/// Checks that each data array has the length its shape needs.
fn check_lengths(arrays: &[(&str, usize, usize)]) -> Result<(), JsError> {
    for &(name, got, want) in arrays {
        if got != want {
            return Err(to_js(ConvError::shape(format!("{name} data has {got} elements but its shape needs {want}"))));
        }
    }
    Ok(())
}

/// The gradients of a backward call; each `take*` moves its array out once (absent ones are
/// undefined).
#[wasm_bindgen]
#[derive(Default)]
pub struct GradientResult {
    input: Vec<f32>,
    weight: Option<Vec<f32>>,
    bias: Option<Vec<f32>>,
    offset: Option<Vec<f32>>,
    mask: Option<Vec<f32>>,
}

#[wasm_bindgen]
impl GradientResult {
    #[wasm_bindgen(js_name = takeInput)]
    pub fn take_input(&mut self) -> Vec<f32> {
        std::mem::take(&mut self.input)
    }
    #[wasm_bindgen(js_name = takeWeight)]
    pub fn take_weight(&mut self) -> Option<Vec<f32>> {
        self.weight.take()
    }
    #[wasm_bindgen(js_name = takeBias)]
    pub fn take_bias(&mut self) -> Option<Vec<f32>> {
        self.bias.take()
    }
    #[wasm_bindgen(js_name = takeOffset)]
    pub fn take_offset(&mut self) -> Option<Vec<f32>> {
        self.offset.take()
    }
    #[wasm_bindgen(js_name = takeMask)]
    pub fn take_mask(&mut self) -> Option<Vec<f32>> {
        self.mask.take()
    }
}

impl From<Gradients> for GradientResult {
    fn from(g: Gradients) -> Self {
        GradientResult { input: g.input, weight: Some(g.weight), bias: g.bias, ..Default::default() }
    }
}

impl From<DeformGradients> for GradientResult {
    fn from(g: DeformGradients) -> Self {
        GradientResult { input: g.input, weight: Some(g.weight), bias: g.bias, offset: Some(g.offset), mask: g.mask }
    }
}

/// Gradients of `conv` with respect to input, weight and (when `with_bias`) bias.
#[wasm_bindgen(js_name = convBackward)]
#[allow(clippy::too_many_arguments)]
pub fn conv_backward_js(
    input: &[f32],
    input_shape: &[u32],
    weight: &[f32],
    weight_shape: &[u32],
    grad_output: &[f32],
    with_bias: bool,
    stride: &[u32],
    dilation: &[u32],
    pad_before: &[u32],
    pad_after: &[u32],
    padding_mode: u8,
    groups: u32,
    flip: bool,
) -> Result<GradientResult, JsError> {
    let params = conv_params(stride, dilation, pad_before, pad_after, padding_mode, groups, flip)?;
    let g = ConvGeometry::new(&sizes(input_shape), &sizes(weight_shape), None, &params).map_err(to_js)?;
    check_lengths(&[("input", input.len(), g.input_len()), ("weight", weight.len(), g.weight_len())])?;
    check_grad_output(grad_output, g.output_len()).map_err(to_js)?;
    conv_backward(&g, input, weight, grad_output, with_bias).map(Into::into).map_err(to_js)
}

/// A transposed convolution prepared for one weight and one input size, like `ConvKernel`: the
/// phases' gather tables and packed weights stay in wasm memory, and JS writes the input to and
/// copies the output from the kernel's own buffers.
#[wasm_bindgen]
pub struct TransposeKernel {
    operator: TransposeOperator,
    buffers: KernelBuffers,
}

#[wasm_bindgen]
impl TransposeKernel {
    /// Validates the problem (`input_shape` with any batch) and prepares the weights.
    #[wasm_bindgen(constructor)]
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        input_shape: &[u32],
        weight: &[f32],
        weight_shape: &[u32],
        has_bias: bool,
        stride: &[u32],
        padding: &[u32],
        output_padding: &[u32],
        dilation: &[u32],
        groups: u32,
    ) -> Result<TransposeKernel, JsError> {
        let params = transpose_params(stride, padding, output_padding, dilation, groups);
        let weight_shape = sizes(weight_shape);
        // The output channels; when they overflow, validation fails on that before the bias.
        let bias_len = has_bias.then(|| weight_shape.get(1).map_or(0, |c| c.wrapping_mul(groups as usize)));
        let geometry = TransposeGeometry::new(&sizes(input_shape), &weight_shape, bias_len, &params).map_err(to_js)?;
        check_lengths(&[("weight", weight.len(), geometry.weight_len())])?;
        let g = &geometry;
        let buffers = KernelBuffers::new(g.in_channels * g.in_size.iter().product::<usize>(), g.out_channels, g.out_size.iter().product());
        Ok(TransposeKernel { operator: TransposeOperator::new(&geometry, weight), buffers })
    }

    /// Sizes the input buffer for `batch` images and returns its address in wasm memory, where the
    /// caller writes the input before `run` (and before anything else allocates).
    #[wasm_bindgen(js_name = inputBuffer)]
    pub fn input_buffer(&mut self, batch: u32) -> *mut f32 {
        self.buffers.input(batch)
    }

    /// Transposed-convolves the images written at `inputBuffer`; returns the address of the flat
    /// output, valid until the kernel's next call.
    pub fn run(&mut self, bias: Option<Vec<f32>>) -> Result<*const f32, JsError> {
        let operator = &mut self.operator;
        self.buffers.run(bias, |input, bias, output| operator.run(input, bias, output))
    }

    /// Bytes this kernel keeps in wasm memory between runs.
    #[wasm_bindgen(js_name = retainedBytes)]
    pub fn retained_bytes(&self) -> usize {
        self.operator.retained_bytes() + self.buffers.bytes()
    }
}

fn transpose_params(stride: &[u32], padding: &[u32], output_padding: &[u32], dilation: &[u32], groups: u32) -> TransposeParams {
    TransposeParams {
        stride: sizes(stride),
        padding: sizes(padding),
        output_padding: sizes(output_padding),
        dilation: sizes(dilation),
        groups: groups as usize,
    }
}

/// Gradients of `convTranspose`.
#[wasm_bindgen(js_name = convTransposeBackward)]
#[allow(clippy::too_many_arguments)]
pub fn conv_transpose_backward_js(
    input: &[f32],
    input_shape: &[u32],
    weight: &[f32],
    weight_shape: &[u32],
    grad_output: &[f32],
    with_bias: bool,
    stride: &[u32],
    padding: &[u32],
    output_padding: &[u32],
    dilation: &[u32],
    groups: u32,
) -> Result<GradientResult, JsError> {
    let params = transpose_params(stride, padding, output_padding, dilation, groups);
    let g = TransposeGeometry::new(&sizes(input_shape), &sizes(weight_shape), None, &params).map_err(to_js)?;
    check_lengths(&[("input", input.len(), g.input_len()), ("weight", weight.len(), g.weight_len())])?;
    check_grad_output(grad_output, g.output_len()).map_err(to_js)?;
    conv_transpose_backward(&g, input, weight, grad_output, with_bias).map(Into::into).map_err(to_js)
}

/// The result of a pooling call: the output and, for max/min, PyTorch's flat per-plane indices.
/// Each `take*` moves its array out once.
#[wasm_bindgen]
pub struct PoolResult {
    output: Vec<f32>,
    indices: Option<Vec<i32>>,
}

#[wasm_bindgen]
impl PoolResult {
    #[wasm_bindgen(js_name = takeOutput)]
    pub fn take_output(&mut self) -> Vec<f32> {
        std::mem::take(&mut self.output)
    }
    #[wasm_bindgen(js_name = takeIndices)]
    pub fn take_indices(&mut self) -> Option<Vec<i32>> {
        self.indices.take()
    }
}

/// Max (kind 0), min (1) or average (2) pooling over channels-first data; max and min also give
/// indices `with_indices`.
#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn pool(
    input: &[f32],
    input_shape: &[u32],
    kind: u8,
    kernel: &[u32],
    stride: &[u32],
    padding: &[u32],
    dilation: &[u32],
    ceil_mode: bool,
    count_include_pad: bool,
    divisor_override: Option<u32>,
    with_indices: bool,
) -> Result<PoolResult, JsError> {
    let g = pool_geometry(input, input_shape, kind, kernel, stride, padding, dilation, ceil_mode, count_include_pad, divisor_override)?;
    let (output, indices) = pool_forward(input, &g, with_indices);
    Ok(PoolResult { output, indices })
}

#[allow(clippy::too_many_arguments)]
fn pool_geometry(
    input: &[f32],
    input_shape: &[u32],
    kind: u8,
    kernel: &[u32],
    stride: &[u32],
    padding: &[u32],
    dilation: &[u32],
    ceil_mode: bool,
    count_include_pad: bool,
    divisor_override: Option<u32>,
) -> Result<PoolGeometry, JsError> {
    let kind = PoolKind::from_code(kind).ok_or_else(|| to_js(ConvError::invalid(format!("unknown pooling kind {kind}"))))?;
    let params = PoolParams {
        kind,
        kernel: sizes(kernel),
        stride: sizes(stride),
        padding: sizes(padding),
        dilation: sizes(dilation),
        ceil_mode,
        count_include_pad,
        divisor_override: divisor_override.map(|d| d as usize),
    };
    let shape = sizes(input_shape);
    let g = PoolGeometry::new(&shape, &params).map_err(to_js)?;
    check_lengths(&[("input", input.len(), shape.iter().product())])?;
    Ok(g)
}

/// Gradient of `pool` with respect to its input.
#[wasm_bindgen(js_name = poolBackward)]
#[allow(clippy::too_many_arguments)]
pub fn pool_backward_js(
    input: &[f32],
    input_shape: &[u32],
    grad_output: &[f32],
    kind: u8,
    kernel: &[u32],
    stride: &[u32],
    padding: &[u32],
    dilation: &[u32],
    ceil_mode: bool,
    count_include_pad: bool,
    divisor_override: Option<u32>,
) -> Result<GradientResult, JsError> {
    let g = pool_geometry(input, input_shape, kind, kernel, stride, padding, dilation, ceil_mode, count_include_pad, divisor_override)?;
    check_grad_output(grad_output, g.output_len()).map_err(to_js)?;
    Ok(GradientResult { input: pool_backward(input, grad_output, &g), ..Default::default() })
}

/// Validates a deformable convolution call and the lengths of its arrays.
#[allow(clippy::too_many_arguments)]
fn deform_geometry(
    input: &[f32],
    input_shape: &[u32],
    offset: &[f32],
    offset_shape: &[u32],
    weight: &[f32],
    weight_shape: &[u32],
    mask: Option<&[f32]>,
    bias_len: Option<usize>,
    stride: &[u32],
    padding: &[u32],
    dilation: &[u32],
    groups: u32,
) -> Result<DeformGeometry, JsError> {
    let pair = |v: &[u32]| -> Result<[usize; 2], JsError> {
        match v {
            [a, b] => Ok([*a as usize, *b as usize]),
            _ => Err(to_js(ConvError::invalid("stride, padding and dilation need 2 entries"))),
        }
    };
    let params = DeformParams { stride: pair(stride)?, padding: pair(padding)?, dilation: pair(dilation)?, groups: groups as usize };
    let offset_shape = sizes(offset_shape);
    let mask_shape = mask.map(|_| {
        let mut s = offset_shape.clone();
        s[1] /= 2;
        s
    });
    let g = DeformGeometry::new(&sizes(input_shape), &offset_shape, &sizes(weight_shape), mask_shape.as_deref(), bias_len, &params).map_err(to_js)?;
    check_lengths(&[
        ("input", input.len(), g.input_len()),
        ("offset", offset.len(), g.offset_len()),
        ("weight", weight.len(), g.weight_len()),
        ("mask", mask.map_or(g.mask_len(), <[f32]>::len), g.mask_len()),
    ])?;
    Ok(g)
}

/// Deformable 2D convolution (torchvision semantics) over channels-first data.
#[wasm_bindgen(js_name = deformConv)]
#[allow(clippy::too_many_arguments)]
pub fn deform_conv(
    input: &[f32],
    input_shape: &[u32],
    offset: &[f32],
    offset_shape: &[u32],
    weight: &[f32],
    weight_shape: &[u32],
    mask: Option<Vec<f32>>,
    bias: Option<Vec<f32>>,
    stride: &[u32],
    padding: &[u32],
    dilation: &[u32],
    groups: u32,
) -> Result<Vec<f32>, JsError> {
    let g = deform_geometry(input, input_shape, offset, offset_shape, weight, weight_shape, mask.as_deref(), bias.as_ref().map(Vec::len), stride, padding, dilation, groups)?;
    Ok(deform_conv_forward(&g, input, offset, mask.as_deref(), weight, bias.as_deref()))
}

/// Gradients of `deformConv`.
#[wasm_bindgen(js_name = deformConvBackward)]
#[allow(clippy::too_many_arguments)]
pub fn deform_conv_backward_js(
    input: &[f32],
    input_shape: &[u32],
    offset: &[f32],
    offset_shape: &[u32],
    weight: &[f32],
    weight_shape: &[u32],
    mask: Option<Vec<f32>>,
    grad_output: &[f32],
    with_bias: bool,
    stride: &[u32],
    padding: &[u32],
    dilation: &[u32],
    groups: u32,
) -> Result<GradientResult, JsError> {
    let g = deform_geometry(input, input_shape, offset, offset_shape, weight, weight_shape, mask.as_deref(), None, stride, padding, dilation, groups)?;
    check_grad_output(grad_output, g.output_len()).map_err(to_js)?;
    Ok(deform_conv_backward(&g, input, offset, mask.as_deref(), weight, grad_output, with_bias).into())
}
