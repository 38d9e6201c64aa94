/** Composite ops expressed as plain convolution calls: depthwise and pointwise are conv2d with
 * implied options; separable conv and separable filters are two calls, the second built from the
 * first one's output, and their gradients run those calls' backward calls in reverse. Multi-step
 * composites are generators of calls (`Steps`), driven on the calling thread or in the pool.
 * Everything a composite can check is checked before the first call runs. */

import { backwardCall, checkGradOutput, type ConvGradients, type SeparableConvGradients, type SepFilterGradients } from './backward.js';
import type { CallResult, OpCall } from './call.js';
import { CONV_OPTION_KEYS, normalizeConv, type ConvOptions } from './conv-options.js';
import { invalid, mismatch } from './errors.js';
import { callerShape, optionsObject, readActivation, readBias, readLayout, type BackendName, type Layout } from './options.js';
import type { PaddingMode } from './problem.js';
import { checkTensor, shapeOnly, type Tensor } from './tensor.js';

export type { ConvOptions };

export interface SeparableConvOptions extends Omit<ConvOptions, 'groups' | 'flip' | 'bias'> {
  /** Added after the depthwise step, `[C * m]`. */
  depthwiseBias?: Tensor | Float32Array;
  /** Added after the pointwise step, `[Cout]`. */
  bias?: Tensor | Float32Array;
}

export interface SepFilterOptions {
  stride?: number | number[];
  padding?: ConvOptions['padding'];
  paddingMode?: PaddingMode;
  dilation?: number | number[];
  flip?: boolean;
  layout?: Layout;
  backend?: BackendName;
}

/** Input channels of `x` (validated as a 2D activation), read from its shape alone: the call
 * built from it reads (and, for channels-last, transposes) the data once. */
function channelsOf(op: string, x: unknown, layout: unknown): number {
  const l = readLayout(op, layout);
  const t = checkTensor(op, 'x', x, [3, 4]);
  return readActivation(op, 'x', shapeOnly(t.shape), 2, l).channels;
}

export function depthwiseCall(x: Tensor, weight: Tensor, opts?: ConvOptions, op = 'depthwiseConv2d'): OpCall {
  const o = optionsObject(op, opts, CONV_OPTION_KEYS);
  if (o.groups !== undefined) throw invalid(`${op}: groups is implied (the input channels); do not pass it`);
  const w = checkTensor(op, 'weight', weight, [4]);
  if (w.shape[1] !== 1) {
    throw mismatch(`${op}: weight must be [C * multiplier, 1, kh, kw], got [${w.shape.join(', ')}]`);
  }
  return normalizeConv(op, 2, x, weight, { ...o, groups: channelsOf(op, x, o.layout) });
}

export function pointwiseCall(x: Tensor, weight: Tensor, opts?: ConvOptions, op = 'pointwiseConv2d'): OpCall {
  const w = checkTensor(op, 'weight', weight, [4]);
  if (w.shape[2] !== 1 || w.shape[3] !== 1) {
    throw mismatch(`${op}: weight must be [Cout, C/groups, 1, 1], got [${w.shape.join(', ')}]`);
  }
  return normalizeConv(op, 2, x, weight, opts);
}

const SEPARABLE_KEYS = new Set([...CONV_OPTION_KEYS, 'depthwiseBias'].filter((k) => k !== 'groups' && k !== 'flip'));

function separableCalls(
  op: string,
  x: Tensor,
  depthwiseWeight: Tensor,
  pointwiseWeight: Tensor,
  opts?: SeparableConvOptions,
): [OpCall, (intermediate: Tensor) => OpCall] {
  const { depthwiseBias, bias, ...o } = optionsObject(op, opts, SEPARABLE_KEYS) as SeparableConvOptions;
  const dw = checkTensor(op, 'depthwiseWeight', depthwiseWeight, [4]);
  const pw = checkTensor(op, 'pointwiseWeight', pointwiseWeight, [4]);
  if (dw.shape[1] !== 1) throw mismatch(`${op}: depthwiseWeight must be [C * multiplier, 1, kh, kw], got [${dw.shape.join(', ')}]`);
  if (pw.shape[1] !== dw.shape[0] || pw.shape[2] !== 1 || pw.shape[3] !== 1) {
    throw mismatch(`${op}: pointwiseWeight must be [Cout, ${dw.shape[0]}, 1, 1] to follow depthwiseWeight, got [${pw.shape.join(', ')}]`);
  }
  const first = normalizeConv(op, 2, x, dw, { ...o, bias: depthwiseBias, groups: channelsOf(op, x, o.layout) });
  readBias(op, 'bias', bias, pw.shape[0], `pointwiseWeight has ${pw.shape[0]} output channels`);
  const pointwiseOpts = { bias, layout: o.layout, backend: o.backend, algorithm: o.algorithm };
  return [first, (mid) => normalizeConv(op, 2, mid, pw, pointwiseOpts)];
}

/** Splits a per-axis option into the column pass's (H only) and the row pass's (W only). */
function splitAxis<T>(value: T | T[] | undefined, keep: 0 | 1, neutral: T): T[] | undefined {
  if (value === undefined) return undefined;
  const both = Array.isArray(value) ? value : [value, value];
  return keep === 0 ? [both[0], neutral] : [neutral, both[1]];
}

function sepFilterCalls(op: string, x: Tensor, kernelY: Float32Array, kernelX: Float32Array, opts?: SepFilterOptions): [OpCall, (intermediate: Tensor) => OpCall] {
  const o = optionsObject(op, opts, new Set(['stride', 'padding', 'paddingMode', 'dilation', 'flip', 'layout', 'backend'])) as SepFilterOptions;
  for (const [name, k] of [['kernelY', kernelY], ['kernelX', kernelX]] as const) {
    if (!(k instanceof Float32Array) || k.length === 0) throw invalid(`${op}: ${name} must be a non-empty Float32Array`);
  }
  const channels = channelsOf(op, x, o.layout);
  const pass = (axis: 0 | 1, k: Float32Array): ConvOptions & { weight: Tensor } => {
    const weight = { data: new Float32Array(channels * k.length), shape: axis === 0 ? [channels, 1, k.length, 1] : [channels, 1, 1, k.length] };
    for (let c = 0; c < channels; c++) weight.data.set(k, c * k.length);
    const padding =
      typeof o.padding === 'string' || o.padding === undefined
        ? o.padding
        : Array.isArray(o.padding) && Array.isArray(o.padding[0])
          ? (splitAxis(o.padding as [number, number][], axis, [0, 0]) as [number, number][])
          : splitAxis(o.padding as number | number[], axis, 0);
    return {
      weight,
      groups: channels,
      padding,
      paddingMode: o.paddingMode,
      stride: splitAxis(o.stride, axis, 1),
      dilation: splitAxis(o.dilation, axis, 1),
      flip: o.flip,
      layout: o.layout,
      backend: o.backend,
    };
  };
  const { weight: wy, ...first } = pass(0, kernelY);
  const { weight: wx, ...second } = pass(1, kernelX);
  return [normalizeConv(op, 2, x, wy, first), (mid) => normalizeConv(op, 2, mid, wx, second)];
}

/** A composite as a sequence of calls: each `yield` runs a call and resumes with its result. */
export type Steps<R> = Generator<OpCall, R, CallResult>;

export function runSteps<R>(steps: Steps<R>, run: (call: OpCall) => CallResult): R {
  let step = steps.next();
  while (!step.done) step = steps.next(run(step.value));
  return step.value;
}

export async function runStepsAsync<R>(steps: Steps<R>, run: (call: OpCall) => Promise<CallResult>): Promise<R> {
  let step = steps.next();
  while (!step.done) step = steps.next(await run(step.value));
  return step.value;
}

type TwoCalls = [OpCall, (intermediate: Tensor) => OpCall];

function* twoStepForward([first, second]: TwoCalls): Steps<Tensor> {
  const mid = (yield first) as Tensor;
  return (yield second(mid)) as Tensor;
}

/** Runs the forward first step, then the second step's backward and the first step's backward.
 * The output gradient is checked (against a shape-only intermediate) before anything runs. */
function* twoStepBackward([first, second]: TwoCalls, gradOutput: unknown): Steps<[ConvGradients, ConvGradients]> {
  checkGradOutput(second(shapeOnly(callerShape(first.activation, first.problem.outputShape))), gradOutput);
  const mid = (yield first) as Tensor;
  const secondGrads = (yield backwardCall(second(mid), gradOutput)) as ConvGradients;
  const firstGrads = (yield backwardCall(first, secondGrads.gradInput)) as ConvGradients;
  return [firstGrads, secondGrads];
}

export const separableSteps = (x: Tensor, dw: Tensor, pw: Tensor, opts?: SeparableConvOptions): Steps<Tensor> =>
  twoStepForward(separableCalls('separableConv2d', x, dw, pw, opts));

export function* separableBackwardSteps(x: Tensor, dw: Tensor, pw: Tensor, gradOutput: Tensor, opts?: SeparableConvOptions): Steps<SeparableConvGradients> {
  const [depthwise, pointwise] = yield* twoStepBackward(separableCalls('separableConv2dBackward', x, dw, pw, opts), gradOutput);
  return {
    gradInput: depthwise.gradInput,
    gradDepthwiseWeight: depthwise.gradWeight,
    gradPointwiseWeight: pointwise.gradWeight,
    ...(depthwise.gradBias && { gradDepthwiseBias: depthwise.gradBias }),
    ...(pointwise.gradBias && { gradBias: pointwise.gradBias }),
  };
}

export const sepFilterSteps = (x: Tensor, kernelY: Float32Array, kernelX: Float32Array, opts?: SepFilterOptions, op = 'sepFilter2d'): Steps<Tensor> =>
  twoStepForward(sepFilterCalls(op, x, kernelY, kernelX, opts));

/** The kernel gradient of a pass: its per-channel copies of the kernel all receive gradient. */
function sumOverChannels(gradWeight: Tensor, taps: number): Float32Array {
  const out = new Float32Array(taps);
  gradWeight.data.forEach((v, i) => (out[i % taps] += v));
  return out;
}

export function* sepFilterBackwardSteps(
  x: Tensor,
  kernelY: Float32Array,
  kernelX: Float32Array,
  gradOutput: Tensor,
  opts?: SepFilterOptions,
): Steps<SepFilterGradients> {
  const [columns, rows] = yield* twoStepBackward(sepFilterCalls('sepFilter2dBackward', x, kernelY, kernelX, opts), gradOutput);
  return {
    gradInput: columns.gradInput,
    gradKernelY: sumOverChannels(columns.gradWeight, kernelY.length),
    gradKernelX: sumOverChannels(rows.gradWeight, kernelX.length),
  };
}
