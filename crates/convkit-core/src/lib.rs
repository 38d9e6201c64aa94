//! convkit-core: the math of convkit, pure Rust and free of wasm specifics. Shapes and validation
//! (`geometry`), the shared padding mechanism (`padding`), the vector type (`simd`), the GEMM
//! microkernel and packing (`gemm`), the planner (`plan`), the executors (`conv`, with `direct`,
//! `depthwise`, `winograd` and `fft_conv`; `transpose`, `pool`, `deform`) and the gradients built
//! from them (`backward`, plus each op's own).

pub mod backward;
pub mod calibration;
pub mod conv;
mod depthwise;
pub mod deform;
mod direct;
pub mod error;
pub mod fft;
pub mod fft_conv;
pub mod gemm;
pub mod geometry;
pub mod padding;
pub mod plan;
pub mod pool;
pub mod reference;
pub mod simd;
#[cfg(test)]
mod test_data;
pub mod transpose;
pub mod winograd;

pub use conv::conv_forward;
pub use error::{ConvError, ErrorCode};
pub use geometry::{ConvGeometry, ConvParams};
pub use padding::PaddingMode;
pub use plan::{plan_conv, Algorithm, ConvPlan, WinogradTile};
