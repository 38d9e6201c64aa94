/** Option normalization and validation for max/min/avg pooling and the global pools. */

import type { OpCall } from './call.js';
import { invalid } from './errors.js';
import {
  fmt,
  isNonNegativeInt,
  isPositiveInt,
  optionalBoolean,
  optionsObject,
  perAxis,
  readActivation,
  readBackend,
  readLayout,
  type BackendName,
  type Layout,
} from './options.js';
import { poolOutputLength, type PoolKind } from './problem.js';
import { checkTensor } from './tensor.js';

export interface PoolingOptions {
  kernelSize: number | number[];
  stride?: number | number[];
  padding?: number | number[];
  /** Max and min pooling only. */
  dilation?: number | number[];
  ceilMode?: boolean;
  /** Average pooling only (default true). */
  countIncludePad?: boolean;
  /** Average pooling only. */
  divisorOverride?: number;
  /** Max and min pooling only: also return PyTorch's flat per-plane indices. */
  returnIndices?: boolean;
  layout?: Layout;
  backend?: BackendName;
}

/** Average pooling takes neither `dilation` nor `returnIndices`. */
export type AvgPoolOptions = Omit<PoolingOptions, 'returnIndices' | 'dilation'>;

export interface GlobalPoolOptions {
  layout?: Layout;
  backend?: BackendName;
}

const COMMON = ['kernelSize', 'stride', 'padding', 'ceilMode', 'layout', 'backend'];
const KEYS: Record<PoolKind, Set<string>> = {
  max: new Set([...COMMON, 'dilation', 'returnIndices']),
  min: new Set([...COMMON, 'dilation', 'returnIndices']),
  avg: new Set([...COMMON, 'countIncludePad', 'divisorOverride']),
};

export function normalizePool(op: string, kind: PoolKind, dims: number, x: unknown, opts: unknown): OpCall & { kind: 'pool' } {
  const o = optionsObject(op, opts, KEYS[kind]);
  const layout = readLayout(op, o.layout);
  const act = readActivation(op, 'x', x, dims, layout);
  if (o.kernelSize === undefined) throw invalid(`${op}: kernelSize is required`);
  const kernel = perAxis(op, 'kernelSize', o.kernelSize, dims, 1);
  const stride = perAxis(op, 'stride', o.stride, dims, kernel);
  const padding = perAxis(op, 'padding', o.padding, dims, 0, isNonNegativeInt, 'non-negative integer');
  const dilation = perAxis(op, 'dilation', o.dilation, dims, 1);
  const ceilMode = optionalBoolean(op, 'ceilMode', o.ceilMode);
  const countIncludePad = o.countIncludePad === undefined ? true : optionalBoolean(op, 'countIncludePad', o.countIncludePad);
  if (o.divisorOverride !== undefined && !isPositiveInt(o.divisorOverride)) {
    throw invalid(`${op}: divisorOverride must be a positive integer, got ${fmt(o.divisorOverride)}`);
  }
  const outSpatial = act.spatial.map((size, a) => {
    if (padding[a] > Math.floor(kernel[a] / 2)) {
      throw invalid(`${op}: padding ${padding[a]} on spatial axis ${a} must be at most half the kernel size (${kernel[a]})`);
    }
    const out = poolOutputLength(size, kernel[a], stride[a], padding[a], dilation[a], ceilMode);
    if (out < 1) {
      throw invalid(
        `${op}: kernel ${kernel[a]} (dilation ${dilation[a]}) on spatial axis ${a} is larger than the padded input (${size + 2 * padding[a]})`,
      );
    }
    return out;
  });
  return {
    op,
    kind: 'pool',
    problem: {
      kind,
      inputShape: [act.batch, act.channels, ...act.spatial],
      outputShape: [act.batch, act.channels, ...outSpatial],
      kernel,
      stride,
      padding,
      dilation,
      ceilMode,
      countIncludePad,
      divisorOverride: o.divisorOverride as number | undefined,
      returnIndices: optionalBoolean(op, 'returnIndices', o.returnIndices),
    },
    arrays: [act.data],
    activation: act,
    backend: readBackend(op, o.backend),
  };
}

/** Global pooling: one window over every spatial axis of a batched `[N, C, ...spatial]` input
 * (1 to 3 spatial axes); the output keeps the spatial axes with size 1. */
export function normalizeGlobalPool(op: string, kind: PoolKind, x: unknown, opts: unknown): OpCall & { kind: 'pool' } {
  const o = optionsObject(op, opts, new Set(['layout', 'backend']));
  const t = checkTensor(op, 'x', x, [3, 4, 5]);
  const layout = readLayout(op, o.layout);
  const spatial = layout === 'channels-last' ? t.shape.slice(1, -1) : t.shape.slice(2);
  if (spatial.includes(0)) throw invalid(`${op}: x has an empty dimension (shape [${t.shape.join(', ')}]); only the batch may be 0`);
  return normalizePool(op, kind, spatial.length, { data: t.data, shape: t.shape }, { kernelSize: spatial, ...o });
}
