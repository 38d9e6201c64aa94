/** The public ops and their gradients, run on the calling thread. Each validates into an OpCall
 * (one place per option family) and runs it on the backend the call asks for; a gradient is the
 * forward call turned into its backward call. */

import { resolveBackend } from '../runtime.js';
import {
  backwardCall,
  type ConvGradients,
  type DeformConvGradients,
  type PoolGradients,
  type SeparableConvGradients,
  type SepFilterGradients,
} from './backward.js';
import { execute, finishCall, type OpCall } from './call.js';
import { normalizeConv, type ConvOptions } from './conv-options.js';
import { normalizeDeformConv, type DeformConvOptions } from './deform-options.js';
import {
  depthwiseCall,
  pointwiseCall,
  runSteps,
  separableBackwardSteps,
  separableSteps,
  sepFilterBackwardSteps,
  sepFilterSteps,
  type SeparableConvOptions,
  type SepFilterOptions,
} from './composites.js';
import type { FilteredImage, FilterOptions, ImageLike, KernelInput } from './image.js';
import { filterSteps, imageCalls, type DirectionOptions, type EmbossDirection, type GradientDirection } from './image-filters.js';
import { normalizeGlobalPool, normalizePool, type AvgPoolOptions, type GlobalPoolOptions, type PoolingOptions } from './pool-options.js';
import type { PoolKind } from './problem.js';
import type { Tensor } from './tensor.js';
import { normalizeConvTranspose, type ConvTransposeOptions } from './transpose-options.js';

function run(call: OpCall) {
  return finishCall(call, execute(resolveBackend(call.op, call.backend), call));
}
const tensorOf = (call: OpCall) => run(call) as Tensor;
const gradientsOf = <G>(call: OpCall, gradOutput: Tensor) => run(backwardCall(call, gradOutput)) as G;

/** 1D convolution: x `[N, C, L]` (or `[C, L]`), weight `[Cout, C/groups, K]`. */
export const conv1d = (x: Tensor, weight: Tensor, opts?: ConvOptions): Tensor => tensorOf(normalizeConv('conv1d', 1, x, weight, opts));
/** 2D convolution: x `[N, C, H, W]` (or `[C, H, W]`), weight `[Cout, C/groups, kh, kw]`. */
export const conv2d = (x: Tensor, weight: Tensor, opts?: ConvOptions): Tensor => tensorOf(normalizeConv('conv2d', 2, x, weight, opts));
/** 3D convolution: x `[N, C, D, H, W]` (or `[C, D, H, W]`), weight `[Cout, C/groups, kd, kh, kw]`. */
export const conv3d = (x: Tensor, weight: Tensor, opts?: ConvOptions): Tensor => tensorOf(normalizeConv('conv3d', 3, x, weight, opts));

/** Gradients of conv1d/2d/3d for `gradOutput` (shaped like the forward output). */
export const conv1dBackward = (x: Tensor, weight: Tensor, gradOutput: Tensor, opts?: ConvOptions): ConvGradients =>
  gradientsOf(normalizeConv('conv1dBackward', 1, x, weight, opts), gradOutput);
export const conv2dBackward = (x: Tensor, weight: Tensor, gradOutput: Tensor, opts?: ConvOptions): ConvGradients =>
  gradientsOf(normalizeConv('conv2dBackward', 2, x, weight, opts), gradOutput);
export const conv3dBackward = (x: Tensor, weight: Tensor, gradOutput: Tensor, opts?: ConvOptions): ConvGradients =>
  gradientsOf(normalizeConv('conv3dBackward', 3, x, weight, opts), gradOutput);

/** Transposed convolutions: weight `[Cin, Cout/groups, ...kernel]`. */
export const convTranspose1d = (x: Tensor, weight: Tensor, opts?: ConvTransposeOptions): Tensor =>
  tensorOf(normalizeConvTranspose('convTranspose1d', 1, x, weight, opts));
export const convTranspose2d = (x: Tensor, weight: Tensor, opts?: ConvTransposeOptions): Tensor =>
  tensorOf(normalizeConvTranspose('convTranspose2d', 2, x, weight, opts));
export const convTranspose3d = (x: Tensor, weight: Tensor, opts?: ConvTransposeOptions): Tensor =>
  tensorOf(normalizeConvTranspose('convTranspose3d', 3, x, weight, opts));
export const convTranspose1dBackward = (x: Tensor, weight: Tensor, gradOutput: Tensor, opts?: ConvTransposeOptions): ConvGradients =>
  gradientsOf(normalizeConvTranspose('convTranspose1dBackward', 1, x, weight, opts), gradOutput);
export const convTranspose2dBackward = (x: Tensor, weight: Tensor, gradOutput: Tensor, opts?: ConvTransposeOptions): ConvGradients =>
  gradientsOf(normalizeConvTranspose('convTranspose2dBackward', 2, x, weight, opts), gradOutput);
export const convTranspose3dBackward = (x: Tensor, weight: Tensor, gradOutput: Tensor, opts?: ConvTransposeOptions): ConvGradients =>
  gradientsOf(normalizeConvTranspose('convTranspose3dBackward', 3, x, weight, opts), gradOutput);

type PoolResult<O> = O extends { returnIndices: true } ? { output: Tensor; indices: Int32Array } : Tensor;
type PoolFn = <O extends PoolingOptions>(x: Tensor, opts: O) => PoolResult<O>;
type PoolBackwardFn<O> = (x: Tensor, gradOutput: Tensor, opts: O) => PoolGradients;
const pooling = (op: string, kind: PoolKind, dims: number): PoolFn =>
  ((x: Tensor, opts: PoolingOptions) => run(normalizePool(op, kind, dims, x, opts))) as PoolFn;
const poolingBackward = <O = PoolingOptions>(op: string, kind: PoolKind, dims: number): PoolBackwardFn<O> =>
  (x, gradOutput, opts) => gradientsOf(normalizePool(op, kind, dims, x, opts), gradOutput);

export const maxPool1d = pooling('maxPool1d', 'max', 1);
export const maxPool2d = pooling('maxPool2d', 'max', 2);
export const maxPool3d = pooling('maxPool3d', 'max', 3);
export const minPool1d = pooling('minPool1d', 'min', 1);
export const minPool2d = pooling('minPool2d', 'min', 2);
export const minPool3d = pooling('minPool3d', 'min', 3);
export const avgPool1d = pooling('avgPool1d', 'avg', 1) as (x: Tensor, opts: AvgPoolOptions) => Tensor;
export const avgPool2d = pooling('avgPool2d', 'avg', 2) as (x: Tensor, opts: AvgPoolOptions) => Tensor;
export const avgPool3d = pooling('avgPool3d', 'avg', 3) as (x: Tensor, opts: AvgPoolOptions) => Tensor;
export const maxPool1dBackward = poolingBackward('maxPool1dBackward', 'max', 1);
export const maxPool2dBackward = poolingBackward('maxPool2dBackward', 'max', 2);
export const maxPool3dBackward = poolingBackward('maxPool3dBackward', 'max', 3);
export const minPool1dBackward = poolingBackward('minPool1dBackward', 'min', 1);
export const minPool2dBackward = poolingBackward('minPool2dBackward', 'min', 2);
export const minPool3dBackward = poolingBackward('minPool3dBackward', 'min', 3);
export const avgPool1dBackward = poolingBackward<AvgPoolOptions>('avgPool1dBackward', 'avg', 1);
export const avgPool2dBackward = poolingBackward<AvgPoolOptions>('avgPool2dBackward', 'avg', 2);
export const avgPool3dBackward = poolingBackward<AvgPoolOptions>('avgPool3dBackward', 'avg', 3);

/** Mean / max over every spatial axis of `[N, C, ...spatial]`; spatial axes are kept with size 1. */
export const globalAvgPool = (x: Tensor, opts?: GlobalPoolOptions): Tensor => tensorOf(normalizeGlobalPool('globalAvgPool', 'avg', x, opts));
export const globalMaxPool = (x: Tensor, opts?: GlobalPoolOptions): Tensor => tensorOf(normalizeGlobalPool('globalMaxPool', 'max', x, opts));
export const globalAvgPoolBackward = (x: Tensor, gradOutput: Tensor, opts?: GlobalPoolOptions): PoolGradients =>
  gradientsOf(normalizeGlobalPool('globalAvgPoolBackward', 'avg', x, opts), gradOutput);
export const globalMaxPoolBackward = (x: Tensor, gradOutput: Tensor, opts?: GlobalPoolOptions): PoolGradients =>
  gradientsOf(normalizeGlobalPool('globalMaxPoolBackward', 'max', x, opts), gradOutput);

/** Depthwise 2D convolution (groups = input channels): weight `[C * m, 1, kh, kw]`. */
export const depthwiseConv2d = (x: Tensor, weight: Tensor, opts?: ConvOptions): Tensor => tensorOf(depthwiseCall(x, weight, opts));
export const depthwiseConv2dBackward = (x: Tensor, weight: Tensor, gradOutput: Tensor, opts?: ConvOptions): ConvGradients =>
  gradientsOf(depthwiseCall(x, weight, opts, 'depthwiseConv2dBackward'), gradOutput);
/** 1x1 convolution: weight `[Cout, C/groups, 1, 1]`. */
export const pointwiseConv2d = (x: Tensor, weight: Tensor, opts?: ConvOptions): Tensor => tensorOf(pointwiseCall(x, weight, opts));
export const pointwiseConv2dBackward = (x: Tensor, weight: Tensor, gradOutput: Tensor, opts?: ConvOptions): ConvGradients =>
  gradientsOf(pointwiseCall(x, weight, opts, 'pointwiseConv2dBackward'), gradOutput);

/** Depthwise `[C*m, 1, kh, kw]` then pointwise `[Cout, C*m, 1, 1]`; stride/padding/dilation apply to the depthwise step. */
export const separableConv2d = (x: Tensor, depthwiseWeight: Tensor, pointwiseWeight: Tensor, opts?: SeparableConvOptions): Tensor =>
  runSteps(separableSteps(x, depthwiseWeight, pointwiseWeight, opts), run);
export const separableConv2dBackward = (
  x: Tensor,
  depthwiseWeight: Tensor,
  pointwiseWeight: Tensor,
  gradOutput: Tensor,
  opts?: SeparableConvOptions,
): SeparableConvGradients => runSteps(separableBackwardSteps(x, depthwiseWeight, pointwiseWeight, gradOutput, opts), run);

/** A spatially separable filter on every channel: a column pass with `kernelY`, then a row pass with `kernelX`. */
export const sepFilter2d = (x: Tensor, kernelY: Float32Array, kernelX: Float32Array, opts?: SepFilterOptions): Tensor =>
  runSteps(sepFilterSteps(x, kernelY, kernelX, opts), run);
export const sepFilter2dBackward = (x: Tensor, kernelY: Float32Array, kernelX: Float32Array, gradOutput: Tensor, opts?: SepFilterOptions): SepFilterGradients =>
  runSteps(sepFilterBackwardSteps(x, kernelY, kernelX, gradOutput, opts), run);

/** Deformable 2D convolution (torchvision deform_conv2d; DCNv2 with `opts.mask`): offset
 * `[N, 2 * offsetGroups * kh * kw, Ho, Wo]` holds (dy, dx) per tap. */
export const deformConv2d = (x: Tensor, offset: Tensor, weight: Tensor, opts?: DeformConvOptions): Tensor =>
  tensorOf(normalizeDeformConv('deformConv2d', x, offset, weight, opts));
export const deformConv2dBackward = (x: Tensor, offset: Tensor, weight: Tensor, gradOutput: Tensor, opts?: DeformConvOptions): DeformConvGradients =>
  gradientsOf(normalizeDeformConv('deformConv2dBackward', x, offset, weight, opts), gradOutput);

/** Image filters on ImageData-like RGBA (see image-filters.ts); each returns a new image of the same size. */
export const filter2d = (image: ImageLike, kernel: KernelInput, opts?: FilterOptions): FilteredImage => runSteps(filterSteps(imageCalls.filter2d(image, kernel, opts)), run);
export const boxBlur = (image: ImageLike, radius: number, opts?: FilterOptions): FilteredImage => runSteps(filterSteps(imageCalls.boxBlur(image, radius, opts)), run);
export const gaussianBlur = (image: ImageLike, sigma: number, opts?: FilterOptions): FilteredImage => runSteps(filterSteps(imageCalls.gaussianBlur(image, sigma, opts)), run);
export const sharpen = (image: ImageLike, opts?: FilterOptions): FilteredImage => runSteps(filterSteps(imageCalls.sharpen(image, opts)), run);
export const laplacian = (image: ImageLike, opts?: FilterOptions): FilteredImage => runSteps(filterSteps(imageCalls.laplacian(image, opts)), run);
export const sobel = (image: ImageLike, opts?: DirectionOptions<GradientDirection>): FilteredImage => runSteps(filterSteps(imageCalls.sobel(image, opts)), run);
export const prewitt = (image: ImageLike, opts?: DirectionOptions<GradientDirection>): FilteredImage => runSteps(filterSteps(imageCalls.prewitt(image, opts)), run);
export const emboss = (image: ImageLike, opts?: DirectionOptions<EmbossDirection>): FilteredImage => runSteps(filterSteps(imageCalls.emboss(image, opts)), run);
