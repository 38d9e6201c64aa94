/** Helpers shared by every op's option normalization: option records, per-axis values, enums, and
 * reading an activation tensor (layout, unbatched input) into channels-first batched form. */

import { invalid, mismatch } from './errors.js';
import { MAX_INT, checkTensor, product } from './tensor.js';

export type Layout = 'channels-first' | 'channels-last';
export type BackendName = 'wasm' | 'js';

export const fmt = (v: unknown): string => JSON.stringify(v) ?? String(v);

export function isPositiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= MAX_INT;
}
export function isNonNegativeInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_INT;
}

/** `opts` as a record with only `allowed` keys; anything but an object (or undefined) is an error. */
export function optionsObject(op: string, opts: unknown, allowed?: ReadonlySet<string>): Record<string, unknown> {
  if (opts !== undefined && (typeof opts !== 'object' || opts === null || Array.isArray(opts))) {
    throw invalid(`${op}: options must be an object, got ${fmt(opts)}`);
  }
  const o = (opts ?? {}) as Record<string, unknown>;
  if (allowed) {
    for (const key of Object.keys(o)) {
      if (!allowed.has(key)) throw invalid(`${op}: unknown option '${key}' (expected one of ${[...allowed].join(', ')})`);
    }
  }
  return o;
}

/** A value per spatial axis: a number for every axis, or a list of `dims` numbers, each checked. */
export function perAxis(
  op: string,
  name: string,
  value: unknown,
  dims: number,
  fallback: number | number[],
  check: (v: unknown) => boolean = isPositiveInt,
  what = 'positive integer',
): number[] {
  if (value === undefined) return typeof fallback === 'number' ? Array(dims).fill(fallback) : fallback;
  const list = typeof value === 'number' ? Array(dims).fill(value) : value;
  if (!Array.isArray(list) || list.length !== dims || !list.every(check)) {
    throw invalid(`${op}: ${name} must be a ${what} or ${dims} of them (one per spatial axis), got ${fmt(value)}`);
  }
  return list;
}

export function oneOf<T extends string>(op: string, name: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly unknown[]).includes(value)) {
    throw invalid(`${op}: ${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${fmt(value)}`);
  }
  return value as T;
}

/** The `layout` option (channels-first unless given). */
export function readLayout(op: string, value: unknown): Layout {
  return oneOf<Layout>(op, 'layout', value, ['channels-first', 'channels-last'], 'channels-first');
}

export function optionalBoolean(op: string, name: string, value: unknown): boolean {
  if (value !== undefined && typeof value !== 'boolean') throw invalid(`${op}: ${name} must be a boolean, got ${fmt(value)}`);
  return value === true;
}

export function readBackend(op: string, value: unknown): BackendName | undefined {
  return value === undefined ? undefined : oneOf<BackendName>(op, 'backend', value, ['wasm', 'js'], 'js');
}

/** Moves the channel axis: channels-last `[N, ...S, C]` <-> channels-first `[N, C, ...S]`. */
export function transposeChannels<T extends Float32Array | Int32Array>(data: T, batch: number, channels: number, plane: number, toFirst: boolean): T {
  const out = (data instanceof Int32Array ? new Int32Array(data.length) : new Float32Array(data.length)) as T;
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

/** An activation read into channels-first, batched form, with what is needed to shape results back. */
export interface Activation {
  batch: number;
  channels: number;
  spatial: number[];
  data: Float32Array;
  layout: Layout;
  unbatched: boolean;
}

/** Reads `x` of `dims` spatial axes (batched or not) in the given layout; only the batch may be 0. */
export function readActivation(op: string, name: string, x: unknown, dims: number, layout: Layout): Activation {
  const t = checkTensor(op, name, x, [dims + 1, dims + 2]);
  const unbatched = t.shape.length === dims + 1;
  const shape = unbatched ? [1, ...t.shape] : [...t.shape];
  const channelsLast = layout === 'channels-last';
  const batch = shape[0];
  const channels = channelsLast ? shape[shape.length - 1] : shape[1];
  const spatial = channelsLast ? shape.slice(1, -1) : shape.slice(2);
  if (channels === 0 || spatial.includes(0)) {
    throw invalid(`${op}: ${name} has an empty dimension (shape [${t.shape.join(', ')}]); only the batch may be 0`);
  }
  const plane = product(spatial);
  const data = channelsLast && t.data.length > 0 ? transposeChannels(t.data, batch, channels, plane, true) : t.data;
  return { batch, channels, spatial, data, layout, unbatched };
}

/** The shape the caller sees for a channels-first `[N, C, ...S]` shape: in its layout and batching. */
export function callerShape(like: Pick<Activation, 'layout' | 'unbatched'>, shape: readonly number[]): number[] {
  const [batch, channels, ...spatial] = shape;
  const outShape = like.layout === 'channels-last' ? [batch, ...spatial, channels] : [...shape];
  return like.unbatched ? outShape.slice(1) : outShape;
}

/** Shapes a channels-first `[N, C, ...S]` result back to the caller's layout and batching. */
export function finishActivation<T extends Float32Array | Int32Array>(
  like: Pick<Activation, 'layout' | 'unbatched'>,
  data: T,
  shape: number[],
): { data: T; shape: number[] } {
  const [batch, channels, ...spatial] = shape;
  const out = like.layout === 'channels-last' ? transposeChannels(data, batch, channels, product(spatial), false) : data;
  return { data: out, shape: callerShape(like, shape) };
}

/** `bias`: a `[n]` tensor or a bare Float32Array of `n` values; `expected` says where `n` comes from. */
export function readBias(op: string, name: string, value: unknown, n: number, expected: string): Float32Array | undefined {
  if (value === undefined) return undefined;
  const b = value instanceof Float32Array ? { data: value, shape: [value.length] } : checkTensor(op, name, value, [1]);
  if (b.data.length !== n) throw mismatch(`${op}: ${name} has ${b.data.length} elements but ${expected}`);
  return b.data;
}
