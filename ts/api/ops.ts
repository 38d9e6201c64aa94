/** The public ops, run on the calling thread. Each validates into an OpCall (one place per option
 * family) and runs it on the backend the call asks for. */

import { resolveBackend } from '../runtime.js';
import { execute, finishCall, type OpCall } from './call.js';
import { normalizeConv, type ConvOptions } from './conv-options.js';
import { normalizeDeformConv, type DeformConvOptions } from './deform-options.js';
import {
  depthwiseCall,
  pointwiseCall,
  separableCalls,
  sepFilterCalls,
  type SeparableConvOptions,
  type SepFilterOptions,
} from './composites.js';
import { normalizeGlobalPool, normalizePool, type GlobalPoolOptions, type PoolingOptions } from './pool-options.js';
import type { Tensor } from './tensor.js';
import { normalizeConvTranspose, type ConvTransposeOptions } from './transpose-options.js';

function run(call: OpCall) {
  return finishCall(call, execute(resolveBackend(call.op, call.backend), call));
}
const tensorOf = (call: OpCall) => run(call) as Tensor;

/** 1D convolution: x `[N, C, L]` (or `[C, L]`), weight `[Cout, C/groups, K]`. */
export const conv1d = (x: Tensor, weight: Tensor, opts?: ConvOptions): Tensor => tensorOf(normalizeConv('conv1d', 1, x, weight, opts));
/** 2D convolution: x `[N, C, H, W]` (or `[C, H, W]`), weight `[Cout, C/groups, kh, kw]`. */
export const conv2d = (x: Tensor, weight: Tensor, opts?: ConvOptions): Tensor => tensorOf(normalizeConv('conv2d', 2, x, weight, opts));
/** 3D convolution: x `[N, C, D, H, W]` (or `[C, D, H, W]`), weight `[Cout, C/groups, kd, kh, kw]`. */
export const conv3d = (x: Tensor, weight: Tensor, opts?: ConvOptions): Tensor => tensorOf(normalizeConv('conv3d', 3, x, weight, opts));

/** Transposed convolutions: weight `[Cin, Cout/groups, ...kernel]`. */
export const convTranspose1d = (x: Tensor, weight: Tensor, opts?: ConvTransposeOptions): Tensor =>
  tensorOf(normalizeConvTranspose('convTranspose1d', 1, x, weight, opts));
export const convTranspose2d = (x: Tensor, weight: Tensor, opts?: ConvTransposeOptions): Tensor =>
  tensorOf(normalizeConvTranspose('convTranspose2d', 2, x, weight, opts));
export const convTranspose3d = (x: Tensor, weight: Tensor, opts?: ConvTransposeOptions): Tensor =>
  tensorOf(normalizeConvTranspose('convTranspose3d', 3, x, weight, opts));

type PoolResult<O> = O extends { returnIndices: true } ? { output: Tensor; indices: Int32Array } : Tensor;
type PoolFn = <O extends PoolingOptions>(x: Tensor, opts: O) => PoolResult<O>;
const pooling = (op: string, kind: 'max' | 'min' | 'avg', dims: number): PoolFn =>
  ((x: Tensor, opts: PoolingOptions) => run(normalizePool(op, kind, dims, x, opts))) as PoolFn;

export const maxPool1d = pooling('maxPool1d', 'max', 1);
export const maxPool2d = pooling('maxPool2d', 'max', 2);
export const maxPool3d = pooling('maxPool3d', 'max', 3);
export const minPool1d = pooling('minPool1d', 'min', 1);
export const minPool2d = pooling('minPool2d', 'min', 2);
export const minPool3d = pooling('minPool3d', 'min', 3);
export const avgPool1d = pooling('avgPool1d', 'avg', 1) as (x: Tensor, opts: Omit<PoolingOptions, 'returnIndices' | 'dilation'>) => Tensor;
export const avgPool2d = pooling('avgPool2d', 'avg', 2) as (x: Tensor, opts: Omit<PoolingOptions, 'returnIndices' | 'dilation'>) => Tensor;
export const avgPool3d = pooling('avgPool3d', 'avg', 3) as (x: Tensor, opts: Omit<PoolingOptions, 'returnIndices' | 'dilation'>) => Tensor;

/** Mean / max over every spatial axis of `[N, C, ...spatial]`; spatial axes are kept with size 1. */
export const globalAvgPool = (x: Tensor, opts?: GlobalPoolOptions): Tensor => tensorOf(normalizeGlobalPool('globalAvgPool', 'avg', x, opts));
export const globalMaxPool = (x: Tensor, opts?: GlobalPoolOptions): Tensor => tensorOf(normalizeGlobalPool('globalMaxPool', 'max', x, opts));

/** Depthwise 2D convolution (groups = input channels): weight `[C * m, 1, kh, kw]`. */
export const depthwiseConv2d = (x: Tensor, weight: Tensor, opts?: ConvOptions): Tensor => tensorOf(depthwiseCall(x, weight, opts));
/** 1x1 convolution: weight `[Cout, C/groups, 1, 1]`. */
export const pointwiseConv2d = (x: Tensor, weight: Tensor, opts?: ConvOptions): Tensor => tensorOf(pointwiseCall(x, weight, opts));
/** Depthwise `[C*m, 1, kh, kw]` then pointwise `[Cout, C*m, 1, 1]`; stride/padding/dilation apply to the depthwise step. */
export function separableConv2d(x: Tensor, depthwiseWeight: Tensor, pointwiseWeight: Tensor, opts?: SeparableConvOptions): Tensor {
  const [first, second] = separableCalls(x, depthwiseWeight, pointwiseWeight, opts);
  return tensorOf(second(tensorOf(first)));
}
/** A spatially separable filter on every channel: a column pass with `kernelY`, then a row pass with `kernelX`. */
export function sepFilter2d(x: Tensor, kernelY: Float32Array, kernelX: Float32Array, opts?: SepFilterOptions): Tensor {
  const [first, second] = sepFilterCalls(x, kernelY, kernelX, opts);
  return tensorOf(second(tensorOf(first)));
}

/** Deformable 2D convolution (torchvision deform_conv2d; DCNv2 with `opts.mask`): offset
 * `[N, 2 * offsetGroups * kh * kw, Ho, Wo]` holds (dy, dx) per tap. */
export const deformConv2d = (x: Tensor, offset: Tensor, weight: Tensor, opts?: DeformConvOptions): Tensor =>
  tensorOf(normalizeDeformConv('deformConv2d', x, offset, weight, opts));
