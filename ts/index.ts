export { ConvkitError, type ErrorCode } from './api/errors.js';
export type { Tensor } from './api/tensor.js';
export type { ConvOptions, Padding } from './api/conv-options.js';
export type { Layout, BackendName } from './api/options.js';
export type { ConvTransposeOptions } from './api/transpose-options.js';
export type { DeformConvOptions } from './api/deform-options.js';
export type { PoolingOptions, AvgPoolOptions, GlobalPoolOptions } from './api/pool-options.js';
export type { SeparableConvOptions, SepFilterOptions } from './api/composites.js';
export type { PaddingMode, Algorithm } from './api/problem.js';
export {
  conv1d,
  conv2d,
  conv3d,
  convTranspose1d,
  convTranspose2d,
  convTranspose3d,
  depthwiseConv2d,
  pointwiseConv2d,
  separableConv2d,
  sepFilter2d,
  maxPool1d,
  maxPool2d,
  maxPool3d,
  minPool1d,
  minPool2d,
  minPool3d,
  avgPool1d,
  avgPool2d,
  avgPool3d,
  globalAvgPool,
  globalMaxPool,
  deformConv2d,
  conv1dBackward,
  conv2dBackward,
  conv3dBackward,
  convTranspose1dBackward,
  convTranspose2dBackward,
  convTranspose3dBackward,
  depthwiseConv2dBackward,
  pointwiseConv2dBackward,
  separableConv2dBackward,
  sepFilter2dBackward,
  maxPool1dBackward,
  maxPool2dBackward,
  maxPool3dBackward,
  minPool1dBackward,
  minPool2dBackward,
  minPool3dBackward,
  avgPool1dBackward,
  avgPool2dBackward,
  avgPool3dBackward,
  globalAvgPoolBackward,
  globalMaxPoolBackward,
  deformConv2dBackward,
  filter2d,
  boxBlur,
  gaussianBlur,
  sharpen,
  laplacian,
  sobel,
  prewitt,
  emboss,
} from './api/ops.js';
export { kernels, type KernelRows } from './api/kernels.js';
export type { ImageLike, FilteredImage, FilterOptions, Kernel, KernelInput } from './api/image.js';
export type { DirectionOptions, GradientDirection, EmbossDirection } from './api/image-filters.js';
export type { ConvGradients, PoolGradients, DeformConvGradients, SeparableConvGradients, SepFilterGradients } from './api/backward.js';
export { convOutputShape, outputSize, transposeOutputSize, paramCount, macs, flops, receptiveField, type ReceptiveFieldLayer } from './api/shapes.js';
export { init, backendInfo, clearCache, type InitOptions, type BackendInfo } from './runtime.js';
export { createPool, type Pool, type CreatePoolOptions, type PoolCallOptions, type PoolStats } from './pool/pool.js';
