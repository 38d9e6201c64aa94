/** Option normalization and validation for the convolution entry points, in one place. Throws a
 * ConvkitError naming the argument before any work is done. */

import { invalid, mismatch } from './errors.js';
import {
  fmt,
  isNonNegativeInt,
  isPositiveInt,
  oneOf,
  optionalBoolean,
  optionsObject,
  perAxis,
  readActivation,
  readBackend,
  readBias,
  readLayout,
  type BackendName,
  type Layout,
} from './options.js';
import {
  ALGORITHMS,
  PADDING_MODES,
  convOutputLength,
  maxPadding,
  type Algorithm,
  type PaddingMode,
} from './problem.js';
import type { OpCall } from './call.js';
import { checkTensor, type Tensor } from './tensor.js';

export type { BackendName, Layout } from './options.js';

export type Padding =
  | number
  | number[]
  | [number, number][]
  | 'valid'
  | 'same'
  | 'full'
  | 'causal';

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

export const CONV_OPTION_KEYS = new Set([
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

/** `[before, after]` per axis for every padding form. */
export function resolvePadding(
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

/** The weight of `op`: a tensor of `rank` dimensions, none of them empty. */
export function readWeight(op: string, w: unknown, rank: number): Tensor {
  const weight = checkTensor(op, 'weight', w, [rank]);
  if (weight.shape.includes(0)) throw invalid(`${op}: weight has an empty dimension (shape [${weight.shape.join(', ')}])`);
  return weight;
}

/** `groups` (default 1): a positive integer that divides the input channels. */
export function readGroups(op: string, groupsOption: unknown, channels: number): number {
  const groups = groupsOption === undefined ? 1 : groupsOption;
  if (!isPositiveInt(groups)) throw invalid(`${op}: groups must be a positive integer, got ${fmt(groupsOption)}`);
  if (channels % groups !== 0) throw invalid(`${op}: groups=${groups} must divide the input channels (${channels})`);
  return groups;
}

/** Checks `groups` against the input channels and a weight's (output channels, channels per group). */
export function checkGroups(op: string, groupsOption: unknown, channels: number, outChannels: number, inPerGroup: number): number {
  const groups = readGroups(op, groupsOption, channels);
  if (outChannels % groups !== 0) {
    throw invalid(`${op}: groups=${groups} must divide the weight's output channels (${outChannels})`);
  }
  if (inPerGroup * groups !== channels) {
    throw mismatch(`${op}: weight has ${inPerGroup} input channels per group but input has ${channels} channels (groups=${groups})`);
  }
  return groups;
}

/** Validates and normalizes `op(x, w, opts)` for a convolution with `dims` spatial axes. */
export function normalizeConv(op: string, dims: number, x: unknown, w: unknown, opts: unknown): OpCall & { kind: 'conv' } {
  const o = optionsObject(op, opts, CONV_OPTION_KEYS);
  const layout = readLayout(op, o.layout);
  const act = readActivation(op, 'x', x, dims, layout);
  const weight = readWeight(op, w, dims + 2);
  const [outChannels, inPerGroup, ...kernel] = weight.shape;
  const groups = checkGroups(op, o.groups, act.channels, outChannels, inPerGroup);
  const bias = readBias(op, 'bias', o.bias, outChannels, `weight has ${outChannels} output channels`);
  const stride = perAxis(op, 'stride', o.stride, dims, 1);
  const dilation = perAxis(op, 'dilation', o.dilation, dims, 1);
  const paddingMode = oneOf<PaddingMode>(op, 'paddingMode', o.paddingMode, PADDING_MODES, 'zeros');
  const { before, after } = resolvePadding(op, o.padding, act.spatial, kernel, stride, dilation);
  const outSpatial: number[] = [];
  for (let a = 0; a < dims; a++) {
    const limit = maxPadding(paddingMode, act.spatial[a]);
    if (before[a] > limit || after[a] > limit) {
      throw invalid(
        `${op}: padding (${before[a]}, ${after[a]}) on spatial axis ${a} is too large for paddingMode '${paddingMode}' ` +
          `with input size ${act.spatial[a]} (at most ${limit} per side)`,
      );
    }
    const padded = act.spatial[a] + before[a] + after[a];
    const extent = dilation[a] * (kernel[a] - 1) + 1;
    if (extent > padded) {
      throw invalid(
        `${op}: kernel extent ${extent} (size ${kernel[a]}, dilation ${dilation[a]}) on spatial axis ${a} ` +
          `is larger than the padded input (${padded})`,
      );
    }
    outSpatial.push(convOutputLength(act.spatial[a], kernel[a], stride[a], dilation[a], before[a], after[a]));
  }
  const flip = optionalBoolean(op, 'flip', o.flip);
  const algorithm = oneOf<Algorithm>(op, 'algorithm', o.algorithm, ALGORITHMS, 'auto');
  return {
    op,
    kind: 'conv',
    problem: {
      inputShape: [act.batch, act.channels, ...act.spatial],
      weightShape: [...weight.shape],
      outputShape: [act.batch, outChannels, ...outSpatial],
      stride,
      dilation,
      padBefore: before,
      padAfter: after,
      paddingMode,
      groups,
      flip,
      algorithm,
      hasBias: bias !== undefined,
    },
    arrays: [act.data, weight.data, bias],
    activation: act,
    backend: readBackend(op, o.backend),
  };
}
