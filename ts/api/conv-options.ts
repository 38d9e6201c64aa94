/** Option normalization and validation for every convolution entry point, in one place. Throws a
 * ConvkitError naming the argument before any work is done. */

import { invalid, mismatch, unsupported } from './errors.js';
import {
  ALGORITHMS,
  PADDING_MODES,
  convOutputLength,
  maxPadding,
  type Algorithm,
  type ConvProblem,
  type PaddingMode,
} from './problem.js';
import { checkTensor, type Tensor } from './tensor.js';

export type Padding =
  | number
  | number[]
  | [number, number][]
  | 'valid'
  | 'same'
  | 'full'
  | 'causal';

export type Layout = 'channels-first' | 'channels-last';
export type BackendName = 'wasm' | 'js';

export interface ConvOptions {
  stride?: number | number[];
  padding?: Padding;
  paddingMode?: PaddingMode;
  dilation?: number | number[];
  groups?: number;
  bias?: Tensor | Float32Array;
  flip?: boolean;
  algorithm?: Algorithm;
  layout?: Layout;
  backend?: BackendName;
}

const CONV_OPTION_KEYS = new Set([
  'stride',
  'padding',
  'paddingMode',
  'dilation',
  'groups',
  'bias',
  'flip',
  'algorithm',
  'layout',
  'backend',
]);

/** A validated call: the normalized problem plus what is needed to shape the result back. */
export interface ConvCall {
  problem: ConvProblem;
  input: Float32Array;
  weight: Float32Array;
  bias: Float32Array | undefined;
  layout: Layout;
  unbatched: boolean;
  backend: BackendName | undefined;
}

const fmt = (v: unknown): string => JSON.stringify(v) ?? String(v);

function isPositiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1;
}
function isNonNegativeInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

/** `stride` / `dilation`: a positive integer, or one per spatial axis. */
function perAxis(op: string, name: string, value: unknown, dims: number): number[] {
  if (value === undefined) return Array(dims).fill(1);
  const list = typeof value === 'number' ? Array(dims).fill(value) : value;
  if (!Array.isArray(list) || list.length !== dims || !list.every(isPositiveInt)) {
    throw invalid(
      `${op}: ${name} must be a positive integer or ${dims} positive integers (one per spatial axis), got ${fmt(value)}`,
    );
  }
  return list;
}

function resolvePadding(
  op: string,
  padding: unknown,
  spatial: number[],
  kernel: number[],
  stride: number[],
  dilation: number[],
): { before: number[]; after: number[] } {
  const dims = spatial.length;
  const extent = (a: number) => dilation[a] * (kernel[a] - 1);
  const per = (f: (a: number) => [number, number]) => {
    const pairs = spatial.map((_, a) => f(a));
    return { before: pairs.map((p) => p[0]), after: pairs.map((p) => p[1]) };
  };
  if (padding === undefined || padding === 'valid') return per(() => [0, 0]);
  if (padding === 'full') return per((a) => [extent(a), extent(a)]);
  if (padding === 'causal') return per((a) => [extent(a), 0]);
  if (padding === 'same') {
    // TensorFlow's rule: out = ceil(in / stride), the odd extra pad at the end.
    return per((a) => {
      const out = Math.ceil(spatial[a] / stride[a]);
      const total = Math.max((out - 1) * stride[a] + extent(a) + 1 - spatial[a], 0);
      const before = Math.floor(total / 2);
      return [before, total - before];
    });
  }
  if (isNonNegativeInt(padding)) return per(() => [padding, padding]);
  if (Array.isArray(padding) && padding.length === dims) {
    if (padding.every(isNonNegativeInt)) return per((a) => [padding[a], padding[a]]);
    const isPair = (p: unknown): p is [number, number] =>
      Array.isArray(p) && p.length === 2 && isNonNegativeInt(p[0]) && isNonNegativeInt(p[1]);
    if (padding.every(isPair)) return per((a) => padding[a]);
  }
  throw invalid(
    `${op}: padding must be a non-negative integer, ${dims} of them (one per spatial axis), ${dims} [before, after] pairs, ` +
      `or 'valid' | 'same' | 'full' | 'causal'; got ${fmt(padding)}`,
  );
}

function oneOf<T extends string>(op: string, name: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly unknown[]).includes(value)) {
    throw invalid(`${op}: ${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${fmt(value)}`);
  }
  return value as T;
}

/** Moves the channel axis: channels-last `[N, ...S, C]` <-> channels-first `[N, C, ...S]`. */
export function transposeChannels(data: Float32Array, batch: number, channels: number, plane: number, toFirst: boolean): Float32Array {
  const out = new Float32Array(data.length);
  for (let n = 0; n < batch; n++) {
    const base = n * channels * plane;
    for (let c = 0; c < channels; c++) {
      for (let p = 0; p < plane; p++) {
        if (toFirst) out[base + c * plane + p] = data[base + p * channels + c];
        else out[base + p * channels + c] = data[base + c * plane + p];
      }
    }
  }
  return out;
}

/** `opts` as a record; anything but an object (or undefined) is an error. */
export function optionsObject(op: string, opts: unknown): Record<string, unknown> {
  if (opts !== undefined && (typeof opts !== 'object' || opts === null || Array.isArray(opts))) {
    throw invalid(`${op}: options must be an object, got ${fmt(opts)}`);
  }
  return (opts ?? {}) as Record<string, unknown>;
}

/** Validates and normalizes `op(x, w, opts)` for a convolution with `dims` spatial axes. */
export function normalizeConv(op: string, dims: number, x: unknown, w: unknown, opts: unknown): ConvCall {
  const o = optionsObject(op, opts);
  for (const key of Object.keys(o)) {
    if (!CONV_OPTION_KEYS.has(key)) {
      throw invalid(`${op}: unknown option '${key}' (expected one of ${[...CONV_OPTION_KEYS].join(', ')})`);
    }
  }
  const input = checkTensor(op, 'x', x, [dims + 1, dims + 2]);
  const weight = checkTensor(op, 'weight', w, [dims + 2]);
  const layout = oneOf<Layout>(op, 'layout', o.layout, ['channels-first', 'channels-last'], 'channels-first');
  const unbatched = input.shape.length === dims + 1;
  const shape = unbatched ? [1, ...input.shape] : [...input.shape];
  const channelsLast = layout === 'channels-last';
  const batch = shape[0];
  const channels = channelsLast ? shape[shape.length - 1] : shape[1];
  const spatial = channelsLast ? shape.slice(1, -1) : shape.slice(2);
  if (channels === 0 || spatial.includes(0) || (unbatched && batch === 0)) {
    throw invalid(`${op}: x has an empty dimension (shape [${input.shape.join(', ')}]); only the batch may be 0`);
  }
  if (weight.shape.includes(0)) {
    throw invalid(`${op}: weight has an empty dimension (shape [${weight.shape.join(', ')}])`);
  }
  const [outChannels, inPerGroup, ...kernel] = weight.shape;

  const groups = o.groups === undefined ? 1 : o.groups;
  if (!isPositiveInt(groups)) throw invalid(`${op}: groups must be a positive integer, got ${fmt(o.groups)}`);
  if (channels % groups !== 0) {
    throw invalid(`${op}: groups=${groups} must divide the input channels (${channels})`);
  }
  if (outChannels % groups !== 0) {
    throw invalid(`${op}: groups=${groups} must divide the weight's output channels (${outChannels})`);
  }
  if (inPerGroup * groups !== channels) {
    throw mismatch(
      `${op}: weight has ${inPerGroup} input channels per group but input has ${channels} channels (groups=${groups})`,
    );
  }

  let bias: Float32Array | undefined;
  if (o.bias !== undefined) {
    const b = o.bias instanceof Float32Array ? { data: o.bias, shape: [o.bias.length] } : checkTensor(op, 'bias', o.bias, [1]);
    if (b.data.length !== outChannels) {
      throw mismatch(`${op}: bias has ${b.data.length} elements but weight has ${outChannels} output channels`);
    }
    bias = b.data;
  }

  const stride = perAxis(op, 'stride', o.stride, dims);
  const dilation = perAxis(op, 'dilation', o.dilation, dims);
  const paddingMode = oneOf<PaddingMode>(op, 'paddingMode', o.paddingMode, PADDING_MODES, 'zeros');
  const { before, after } = resolvePadding(op, o.padding, spatial, kernel, stride, dilation);
  const outSpatial: number[] = [];
  for (let a = 0; a < dims; a++) {
    const limit = maxPadding(paddingMode, spatial[a]);
    if (before[a] > limit || after[a] > limit) {
      throw invalid(
        `${op}: padding (${before[a]}, ${after[a]}) on spatial axis ${a} is too large for paddingMode '${paddingMode}' ` +
          `with input size ${spatial[a]} (at most ${limit} per side)`,
      );
    }
    const padded = spatial[a] + before[a] + after[a];
    const extent = dilation[a] * (kernel[a] - 1) + 1;
    if (extent > padded) {
      throw invalid(
        `${op}: kernel extent ${extent} (size ${kernel[a]}, dilation ${dilation[a]}) on spatial axis ${a} ` +
          `is larger than the padded input (${padded})`,
      );
    }
    outSpatial.push(convOutputLength(spatial[a], kernel[a], stride[a], dilation[a], before[a], after[a]));
  }

  if (o.flip !== undefined && typeof o.flip !== 'boolean') {
    throw invalid(`${op}: flip must be a boolean, got ${fmt(o.flip)}`);
  }
  const algorithm = oneOf<Algorithm>(op, 'algorithm', o.algorithm, ALGORITHMS, 'auto');
  if (algorithm === 'winograd' || algorithm === 'fft') {
    throw unsupported(`${op}: algorithm '${algorithm}' is not available yet; use 'auto', 'direct' or 'im2col'`);
  }
  const backend = o.backend === undefined ? undefined : oneOf<BackendName>(op, 'backend', o.backend, ['wasm', 'js'], 'js');

  const plane = spatial.reduce((p, s) => p * s, 1);
  return {
    problem: {
      inputShape: [batch, channels, ...spatial],
      weightShape: [...weight.shape],
      outputShape: [batch, outChannels, ...outSpatial],
      stride,
      dilation,
      padBefore: before,
      padAfter: after,
      paddingMode,
      groups,
      flip: o.flip === true,
      algorithm,
      hasBias: bias !== undefined,
    },
    input: channelsLast ? transposeChannels(input.data, batch, channels, plane, true) : input.data,
    weight: weight.data,
    bias,
    layout,
    unbatched,
    backend,
  };
}

/** Shapes a channels-first output back to the caller's layout and batching. */
export function finishConv(call: ConvCall, output: Float32Array): Tensor {
  const [batch, channels, ...spatial] = call.problem.outputShape;
  let data = output;
  let shape = call.problem.outputShape.slice();
  if (call.layout === 'channels-last') {
    const plane = spatial.reduce((p, s) => p * s, 1);
    data = transposeChannels(output, batch, channels, plane, false);
    shape = [batch, ...spatial, channels];
  }
  if (call.unbatched) shape = shape.slice(1);
  return { data, shape };
}
