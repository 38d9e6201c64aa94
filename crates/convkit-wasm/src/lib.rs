//! The wasm-bindgen boundary: converts JS arrays to core types and core errors to JS errors.
//! No math lives here. Errors reach JS as `Error("<CODE>: <message>")`; the TypeScript wasm
//! backend turns them back into `ConvkitError`s.

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
