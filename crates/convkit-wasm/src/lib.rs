//! The wasm-bindgen boundary: converts JS arrays to core types and core errors to JS errors.
//! No math lives here. Errors reach JS as `Error("<CODE>: <message>")`; the TypeScript wasm
//! backend turns them back into `ConvkitError`s.

use convkit_core::deform::{deform_conv_forward, DeformGeometry, DeformParams};
use convkit_core::pool::{pool_forward, PoolGeometry, PoolKind, PoolParams};
use convkit_core::transpose::{conv_transpose_forward, TransposeGeometry, TransposeParams};
use convkit_core::{conv_forward, Algorithm, ConvError, ConvParams, PaddingMode};
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

/// N-d convolution over channels-first data; returns the flat output (its shape is known to the
/// caller, which validated the same problem).
#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn conv(
    input: &[f32],
    input_shape: &[u32],
    weight: &[f32],
    weight_shape: &[u32],
    bias: Option<Vec<f32>>,
    stride: &[u32],
    dilation: &[u32],
    pad_before: &[u32],
    pad_after: &[u32],
    padding_mode: u8,
    groups: u32,
    flip: bool,
    algorithm: u8,
) -> Result<Vec<f32>, JsError> {
    let padding_mode = PaddingMode::from_code(padding_mode)
        .ok_or_else(|| to_js(ConvError::invalid(format!("unknown padding mode code {padding_mode}"))))?;
    let algorithm = Algorithm::from_code(algorithm)
        .ok_or_else(|| to_js(ConvError::invalid(format!("unknown algorithm code {algorithm}"))))?;
    let params = ConvParams {
        stride: sizes(stride),
        dilation: sizes(dilation),
        pad_before: sizes(pad_before),
        pad_after: sizes(pad_after),
        padding_mode,
        groups: groups as usize,
        flip,
    };
    conv_forward(
        input,
        &sizes(input_shape),
        weight,
        &sizes(weight_shape),
        bias.as_deref(),
        &params,
        algorithm,
    )
    .map(|(out, _)| out)
    .map_err(to_js)
}

/// Transposed convolution over channels-first data; returns the flat output.
#[wasm_bindgen(js_name = convTranspose)]
#[allow(clippy::too_many_arguments)]
pub fn conv_transpose(
    input: &[f32],
    input_shape: &[u32],
    weight: &[f32],
    weight_shape: &[u32],
    bias: Option<Vec<f32>>,
    stride: &[u32],
    padding: &[u32],
    output_padding: &[u32],
    dilation: &[u32],
    groups: u32,
) -> Result<Vec<f32>, JsError> {
    let params = TransposeParams {
        stride: sizes(stride),
        padding: sizes(padding),
        output_padding: sizes(output_padding),
        dilation: sizes(dilation),
        groups: groups as usize,
    };
    let g = TransposeGeometry::new(&sizes(input_shape), &sizes(weight_shape), bias.as_ref().map(Vec::len), &params)
        .map_err(to_js)?;
    if input.len() != g.input_len() || weight.len() != g.weight_len() {
        return Err(to_js(ConvError::shape("data lengths do not match the shapes")));
    }
    Ok(conv_transpose_forward(&g, input, weight, bias.as_deref()))
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

/// Max (kind 0), min (1) or average (2) pooling over channels-first data.
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
) -> Result<PoolResult, JsError> {
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
    if input.len() != shape.iter().product::<usize>() {
        return Err(to_js(ConvError::shape("input data length does not match its shape")));
    }
    let (output, indices) = pool_forward(input, &g);
    Ok(PoolResult { output, indices })
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
    let pair = |v: &[u32]| -> Result<[usize; 2], JsError> {
        match v {
            [a, b] => Ok([*a as usize, *b as usize]),
            _ => Err(to_js(ConvError::invalid("stride, padding and dilation need 2 entries"))),
        }
    };
    let params = DeformParams { stride: pair(stride)?, padding: pair(padding)?, dilation: pair(dilation)?, groups: groups as usize };
    let (input_shape, offset_shape) = (sizes(input_shape), sizes(offset_shape));
    let mask_shape = mask.as_ref().map(|_| {
        let mut s = offset_shape.clone();
        s[1] /= 2;
        s
    });
    let g = DeformGeometry::new(&input_shape, &offset_shape, &sizes(weight_shape), mask_shape.as_deref(), bias.as_ref().map(Vec::len), &params)
        .map_err(to_js)?;
    let lengths_ok = input.len() == input_shape.iter().product::<usize>()
        && offset.len() == offset_shape.iter().product::<usize>()
        && mask.as_ref().zip(mask_shape.as_ref()).is_none_or(|(m, s)| m.len() == s.iter().product::<usize>())
        && weight.len() == g.out_channels * (g.in_channels / g.groups) * g.kernel[0] * g.kernel[1];
    if !lengths_ok {
        return Err(to_js(ConvError::shape("data lengths do not match the shapes")));
    }
    Ok(deform_conv_forward(&g, input, offset, mask.as_deref(), weight, bias.as_deref()))
}
