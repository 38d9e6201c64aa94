/** The working-memory limit: every call estimates the memory it needs (its inputs as the backend
 * sees them, its results, and the largest scratch buffer of its algorithm) and fails fast with
 * OUT_OF_MEMORY before allocating anything when that exceeds the limit. wasm32 addresses 4 GiB in
 * all, and the JS side keeps its own copies, so the default leaves room: 2 GiB. */

import { resultSpecs, type OpCall } from './call.js';
import { ConvkitError, invalid } from './errors.js';
import { product } from './tensor.js';

export const DEFAULT_MEMORY_LIMIT = 2 ** 31;
let limit = DEFAULT_MEMORY_LIMIT;

/** Validates a `memoryLimit` option (bytes). */
export function readMemoryLimit(op: string, bytes: unknown): number {
  if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 1) {
    throw invalid(`${op}: memoryLimit must be a positive integer number of bytes, got ${String(bytes)}`);
  }
  return bytes;
}

/** Sets the limit in bytes (`init({ memoryLimit })`). */
export function setMemoryLimit(bytes: unknown): void {
  limit = readMemoryLimit('init', bytes);
}

export function memoryLimit(): number {
  return limit;
}

/** Scratch floats beyond inputs and results: padded copies, im2col and deformable columns. */
function scratchFloats(call: OpCall): number {
  const p = call.problem;
  switch (call.kind) {
    case 'conv':
    case 'convBackward': {
      const q = call.problem;
      const padded = q.inputShape[1] * product(q.inputShape.slice(2).map((s, a) => s + q.padBefore[a] + q.padAfter[a]));
      // The input gradient goes through the whole batch's padded gradient. Weights: a flipped copy,
      // and Winograd's transformed copy (36 values per 9 taps).
      return (call.kind === 'convBackward' ? q.inputShape[0] + 1 : 1) * padded + 5 * product(q.weightShape);
    }
    case 'convTranspose':
      return product(p.outputShape) + product(call.problem.weightShape);
    case 'convTransposeBackward': {
      // The adjoint convolution pads one sample of the output gradient by the padding.
      const q = call.problem;
      return q.outputShape[1] * product(q.outputShape.slice(2).map((s, a) => s + 2 * q.padding[a])) + product(q.weightShape);
    }
    case 'deformConv':
    case 'deformConvBackward': {
      const [, channels] = call.problem.inputShape;
      const [, , kh, kw] = call.problem.weightShape;
      return 2 * channels * kh * kw * product(p.outputShape.slice(2));
    }
    case 'pool':
      // One plane after each separable pass (indices, when asked for, are a result).
      return 2 * product(p.inputShape.slice(2));
    case 'poolBackward':
      // The forward's values and indices.
      return 2 * product(p.outputShape);
  }
}

export function workingBytes(call: OpCall): number {
  const inputs = call.arrays.reduce((n, a) => n + (a?.length ?? 0), 0);
  const results = Object.values(resultSpecs(call)).reduce((n, s) => n + product(s!.shape), 0);
  // Results exist twice on the way out (backend memory, then the caller's array).
  return 4 * (inputs + 2 * results + scratchFloats(call));
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(bytes < 2 ** 20 ? 3 : 0)} MiB`;

/** Throws OUT_OF_MEMORY when `call` needs more than `max` bytes (default: the limit). */
export function checkMemory(call: OpCall, max = limit): void {
  checkBytes(call.op, workingBytes(call), `output shape [${call.problem.outputShape.join(', ')}]`, max);
}

/** Throws OUT_OF_MEMORY when `bytes` of working memory (for `what`) exceed `max`. */
export function checkBytes(op: string, bytes: number, what: string, max = limit): void {
  if (bytes > max) {
    throw new ConvkitError('OUT_OF_MEMORY', `${op}: needs about ${mib(bytes)} of working memory (${what}), more than the limit of ${mib(max)} (memoryLimit)`);
  }
}
