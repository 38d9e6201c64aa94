export { ConvkitError, type ErrorCode } from './api/errors.js';
export type { Tensor } from './api/tensor.js';
export type { ConvOptions, Padding, Layout, BackendName } from './api/conv-options.js';
export type { PaddingMode, Algorithm } from './api/problem.js';
export { conv1d, conv2d, conv3d } from './api/conv.js';
export { init, backendInfo, type InitOptions, type BackendInfo } from './runtime.js';
export { createPool, type Pool, type PoolOptions, type PoolCallOptions, type PoolConvOptions } from './pool/pool.js';
