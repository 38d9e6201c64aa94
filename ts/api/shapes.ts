/** Shapes and costs, computed by the same normalization the ops use, so they always agree. */

import type { OpCall } from './call.js';
import { resolvePadding } from './conv-options.js';
import { depthwiseCall, pointwiseCall } from './composites.js';
import { normalizeConv } from './conv-options.js';
import { invalid } from './errors.js';
import { fmt, isNonNegativeInt, isPositiveInt, optionsObject } from './options.js';
import { normalizePool } from './pool-options.js';
import { product, shapeOnly } from './tensor.js';
import { transposeOutputLength } from './problem.js';
import { normalizeConvTranspose } from './transpose-options.js';

const POOLS = /^(max|min|avg)Pool([123])d$/;

function callFor(op: string, inputShape: number[], weightShape: number[] | null | undefined, opts: unknown): OpCall {
  const x = shapeOnly(inputShape);
  const w = () => {
    if (!Array.isArray(weightShape)) throw invalid(`${op}: weightShape must be an array of integers, got ${fmt(weightShape)}`);
    return shapeOnly(weightShape);
  };
  const conv = /^conv([123])d$/.exec(op);
  if (conv) return normalizeConv(op, Number(conv[1]), x, w(), opts);
  const transpose = /^convTranspose([123])d$/.exec(op);
  if (transpose) return normalizeConvTranspose(op, Number(transpose[1]), x, w(), opts);
  if (op === 'depthwiseConv2d') return depthwiseCall(x, w(), opts as never);
  if (op === 'pointwiseConv2d') return pointwiseCall(x, w(), opts as never);
  const pool = POOLS.exec(op);
  if (pool) return normalizePool(op, pool[1] as 'max', Number(pool[2]), x, opts);
  throw invalid(`convOutputShape: unknown op ${fmt(op)}`);
}

/** The output shape `op` gives for these shapes and options (in the options' layout). */
export function convOutputShape(op: string, inputShape: number[], weightShape: number[] | null, opts?: object): number[] {
  const call = callFor(op, inputShape, weightShape, opts);
  const [n, c, ...spatial] = call.problem.outputShape;
  const shape = call.activation.layout === 'channels-last' ? [n, ...spatial, c] : [n, c, ...spatial];
  return call.activation.unbatched ? shape.slice(1) : shape;
}

/** Multiply-accumulates of a convolution (transposed: the useful ones, no zero insertion). */
export function macs(op: string, inputShape: number[], weightShape: number[], opts?: object): number {
  const call = callFor(op, inputShape, weightShape, opts);
  const kernel = product(weightShape.slice(2));
  switch (call.kind) {
    case 'conv':
      return product(call.problem.outputShape) * weightShape[1] * kernel;
    case 'convTranspose':
      return product(call.problem.inputShape) * weightShape[1] * kernel;
    default:
      throw invalid(`macs: ${op} is not a convolution`);
  }
}

export function flops(op: string, inputShape: number[], weightShape: number[], opts?: object): number {
  return 2 * macs(op, inputShape, weightShape, opts);
}

/** Output length of one axis of a convolution. */
export function outputSize(i: number, k: number, opts?: { stride?: number; padding?: number | [number, number] | 'valid' | 'same' | 'full' | 'causal'; dilation?: number }): number {
  const o = optionsObject('outputSize', opts, new Set(['stride', 'padding', 'dilation']));
  for (const [name, v] of [['i', i], ['k', k]] as const) {
    if (!isPositiveInt(v)) throw invalid(`outputSize: ${name} must be a positive integer, got ${fmt(v)}`);
  }
  const stride = o.stride ?? 1;
  const dilation = o.dilation ?? 1;
  if (!isPositiveInt(stride)) throw invalid(`outputSize: stride must be a positive integer, got ${fmt(stride)}`);
  if (!isPositiveInt(dilation)) throw invalid(`outputSize: dilation must be a positive integer, got ${fmt(dilation)}`);
  const padding = Array.isArray(o.padding) ? [o.padding] : o.padding;
  const { before, after } = resolvePadding('outputSize', padding, [i], [k], [stride], [dilation]);
  const span = i + before[0] + after[0] - dilation * (k - 1) - 1;
  if (span < 0) throw invalid(`outputSize: kernel extent ${dilation * (k - 1) + 1} is larger than the padded input ${i + before[0] + after[0]}`);
  return Math.floor(span / stride) + 1;
}

/** Output length of one axis of a transposed convolution: `(i-1)*s - 2p + d*(k-1) + outputPadding + 1`. */
export function transposeOutputSize(i: number, k: number, opts?: { stride?: number; padding?: number; dilation?: number; outputPadding?: number }): number {
  const o = optionsObject('transposeOutputSize', opts, new Set(['stride', 'padding', 'dilation', 'outputPadding']));
  const value = (name: string, v: unknown, fallback: number, ok: (v: unknown) => boolean) => {
    const r = v ?? fallback;
    if (!ok(r)) throw invalid(`transposeOutputSize: ${name} must be a ${ok === isPositiveInt ? 'positive' : 'non-negative'} integer, got ${fmt(r)}`);
    return r as number;
  };
  const out = transposeOutputLength(
    value('i', i, 0, isPositiveInt),
    value('k', k, 0, isPositiveInt),
    value('stride', o.stride, 1, isPositiveInt),
    value('padding', o.padding, 0, isNonNegativeInt),
    value('dilation', o.dilation, 1, isPositiveInt),
    value('outputPadding', o.outputPadding, 0, isNonNegativeInt),
  );
  if (out < 1) throw invalid(`transposeOutputSize: the output would be empty (${out})`);
  return out;
}

/** Weights plus, with `bias`, one bias per output channel (`weightShape[0]`). */
export function paramCount(weightShape: number[], opts?: { bias?: boolean }): number {
  if (!Array.isArray(weightShape) || weightShape.length < 2 || !weightShape.every(isPositiveInt)) {
    throw invalid(`paramCount: weightShape must be 2 or more positive integers, got ${fmt(weightShape)}`);
  }
  const o = optionsObject('paramCount', opts, new Set(['bias']));
  return product(weightShape) + (o.bias ? weightShape[0] : 0);
}

export interface ReceptiveFieldLayer {
  kernel: number;
  stride?: number;
  dilation?: number;
  padding?: number;
}

/** Receptive field of each layer of a stack, in input pixels: `size` (width), `jump` (distance
 * between adjacent outputs) and `start` (centre of the first output's field; input pixel i is at i). */
export function receptiveField(layers: ReceptiveFieldLayer[]): { size: number; jump: number; start: number }[] {
  if (!Array.isArray(layers)) throw invalid(`receptiveField: layers must be an array, got ${fmt(layers)}`);
  let size = 1;
  let jump = 1;
  let start = 0;
  return layers.map((layer, i) => {
    const o = optionsObject(`receptiveField: layers[${i}]`, layer, new Set(['kernel', 'stride', 'dilation', 'padding']));
    const k = o.kernel;
    const s = o.stride ?? 1;
    const d = o.dilation ?? 1;
    const p = o.padding ?? 0;
    if (!isPositiveInt(k) || !isPositiveInt(s) || !isPositiveInt(d) || !isNonNegativeInt(p)) {
      throw invalid(`receptiveField: layers[${i}] needs a positive integer kernel, stride and dilation and a non-negative padding, got ${fmt(layer)}`);
    }
    const extent = d * (k - 1) + 1;
    start += ((extent - 1) / 2 - p) * jump;
    size += (extent - 1) * jump;
    jump *= s;
    return { size, jump, start };
  });
}
