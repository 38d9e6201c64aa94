//! The planner's thresholds for `Algorithm::Auto`, measured by `npm run calibrate`
//! (bench/calibrate.mjs): each is where the fastest algorithm changed in a sweep on wasm-SIMD.
//! Generated on 2026-11-23, AMD EPYC, Node v20.20.2; do not edit by hand.

/// Winograd for 3x3 stride 1 from this many input and output channels per group.
pub const WINOGRAD_MIN_CHANNELS: usize = 8;
/// And from this many output positions per call (batch x plane).
pub const WINOGRAD_MIN_POSITIONS: usize = 64;
/// Direct tiles over GEMM at stride 1 up to this Cin/g x Cout/g.
pub const DIRECT_MAX_CHANNEL_PRODUCT: usize = 64;
/// Depthwise tiles over GEMM up to this depth multiplier.
pub const DIRECT_MAX_DEPTH_MULTIPLIER: usize = 32;
/// FFT for 2-D kernels at least this wide and tall (stride 1).
pub const FFT_MIN_KERNEL_SIDE: usize = 9;
/// FFT for 1-D kernels of at least this many taps (stride 1).
pub const FFT_MIN_KERNEL_TAPS_1D: usize = 16;
