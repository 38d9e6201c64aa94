export { ConvkitError, type ErrorCode } from './api/errors.js';
export type { Tensor } from './api/tensor.js';
export type { ConvOptions, Padding } from './api/conv-options.js';
export type { Layout, BackendName } from './api/options.js';
export type { ConvTransposeOptions } from './api/transpose-options.js';
export type { DeformConvOptions } from './api/deform-options.js';
export type { PoolingOptions, GlobalPoolOptions } from './api/pool-options.js';
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
} from './api/ops.js';
export { convOutputShape, outputSize, transposeOutputSize, paramCount, macs, flops, receptiveField, type ReceptiveFieldLayer } from './api/shapes.js';
export { init, backendInfo, type InitOptions, type BackendInfo } from './runtime.js';
export { createPool, type Pool, type CreatePoolOptions, type PoolCallOptions } from './pool/pool.js';
