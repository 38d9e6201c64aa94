import { invalid, mismatch } from './errors.js';

/** The largest size, stride, padding or dilation accepted: sizes cross the wasm boundary as 32-bit
 * integers, and larger values could never describe a tensor that fits in memory. */
export const MAX_INT = 2 ** 31 - 1;

/** Any `{ data, shape }` object is a tensor; `data.length` equals the product of `shape`. */
export interface Tensor {
  data: Float32Array;
  shape: number[];
}

export function product(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (ArrayBuffer.isView(value)) return value.constructor.name;
  return typeof value;
}

/** Marks a tensor that carries only a shape (for the shape and cost functions): its data is not read. */
const SHAPE_ONLY = Symbol('convkit shape only');

export function shapeOnly(shape: number[]): Tensor {
  return Object.assign({ data: new Float32Array(0), shape }, { [SHAPE_ONLY]: true });
}

export function isShapeOnly(t: Tensor): boolean {
  return (t as { [SHAPE_ONLY]?: boolean })[SHAPE_ONLY] === true;
}

/** Checks that `value` is a tensor named `name` of one of the given ranks and returns it. */
export function checkTensor(op: string, name: string, value: unknown, ranks: readonly number[]): Tensor {
  const t = value as Partial<Tensor> | null | undefined;
  if (typeof t !== 'object' || t === null || !(t.data instanceof Float32Array) || !Array.isArray(t.shape)) {
    throw invalid(`${op}: ${name} must be a tensor { data: Float32Array, shape: number[] }, got ${describe(value)}`);
  }
  for (const d of t.shape) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0 || d > MAX_INT) {
      throw invalid(`${op}: ${name}.shape must hold non-negative integers below 2^31, got [${t.shape.join(', ')}]`);
    }
  }
  if (!ranks.includes(t.shape.length)) {
    throw invalid(
      `${op}: ${name} must have ${ranks.join(' or ')} dimensions, got ${t.shape.length} (shape [${t.shape.join(', ')}])`,
    );
  }
  if (t.data.length !== product(t.shape) && !isShapeOnly(t as Tensor)) {
    throw mismatch(
      `${op}: ${name}.data has ${t.data.length} elements but shape [${t.shape.join(', ')}] needs ${product(t.shape)}`,
    );
  }
  return t as Tensor;
}
