/** Composite ops expressed as plain convolution calls: depthwise and pointwise are conv2d with
 * implied options; separable conv and separable filters are two calls, the second built from the
 * first one's output. Everything a composite can check is checked before the first call runs. */

import type { OpCall } from './call.js';
import { CONV_OPTION_KEYS, normalizeConv, type ConvOptions } from './conv-options.js';
import { invalid, mismatch } from './errors.js';
import { oneOf, optionsObject, readActivation, readBias, type BackendName, type Layout } from './options.js';
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
  const l = oneOf<Layout>(op, 'layout', layout, ['channels-first', 'channels-last'], 'channels-first');
  const t = checkTensor(op, 'x', x, [3, 4]);
  return readActivation(op, 'x', shapeOnly(t.shape), 2, l).channels;
}

export function depthwiseCall(x: Tensor, weight: Tensor, opts?: ConvOptions): OpCall {
  const o = optionsObject('depthwiseConv2d', opts, CONV_OPTION_KEYS);
  if (o.groups !== undefined) throw invalid('depthwiseConv2d: groups is implied (the input channels); do not pass it');
  const w = checkTensor('depthwiseConv2d', 'weight', weight, [4]);
  if (w.shape[1] !== 1) {
    throw mismatch(`depthwiseConv2d: weight must be [C * multiplier, 1, kh, kw], got [${w.shape.join(', ')}]`);
  }
  return normalizeConv('depthwiseConv2d', 2, x, weight, { ...o, groups: channelsOf('depthwiseConv2d', x, o.layout) });
}

export function pointwiseCall(x: Tensor, weight: Tensor, opts?: ConvOptions): OpCall {
  const w = checkTensor('pointwiseConv2d', 'weight', weight, [4]);
  if (w.shape[2] !== 1 || w.shape[3] !== 1) {
    throw mismatch(`pointwiseConv2d: weight must be [Cout, C/groups, 1, 1], got [${w.shape.join(', ')}]`);
  }
  return normalizeConv('pointwiseConv2d', 2, x, weight, opts);
}

const SEPARABLE_KEYS = new Set([...CONV_OPTION_KEYS, 'depthwiseBias'].filter((k) => k !== 'groups' && k !== 'flip'));

export function separableCalls(
  x: Tensor,
  depthwiseWeight: Tensor,
  pointwiseWeight: Tensor,
  opts?: SeparableConvOptions,
): [OpCall, (intermediate: Tensor) => OpCall] {
  const op = 'separableConv2d';
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

export function sepFilterCalls(x: Tensor, kernelY: Float32Array, kernelX: Float32Array, opts?: SepFilterOptions): [OpCall, (intermediate: Tensor) => OpCall] {
  const op = 'sepFilter2d';
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
