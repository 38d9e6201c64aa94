/** One representation of a validated call for every op, forward or backward, so direct calls and
 * the worker pool run every op through the same few functions. */

import type { Backend, OpKind, ResultArrays } from '../backends/backend.js';
import { ConvkitError, withOp } from './errors.js';
import { checkMemory } from './memory.js';
import { finishActivation, type Activation, type BackendName } from './options.js';
import type { ConvProblem, ConvTransposeProblem, DeformConvProblem, PoolProblem } from './problem.js';
import { product, type Tensor } from './tensor.js';

export type OpCall =
  | (CallBase & { kind: 'conv' | 'convBackward'; problem: ConvProblem })
  | (CallBase & { kind: 'convTranspose' | 'convTransposeBackward'; problem: ConvTransposeProblem })
  | (CallBase & { kind: 'pool' | 'poolBackward'; problem: PoolProblem })
  | (CallBase & { kind: 'deformConv' | 'deformConvBackward'; problem: DeformConvProblem });

interface CallBase {
  /** The public op name, for messages. */
  op: string;
  kind: OpKind;
  /** The backend method's array arguments (see `ARRAY_ROLES` in pool/split.ts for which are per sample). */
  arrays: (Float32Array | undefined)[];
  activation: Activation;
  backend: BackendName | undefined;
}

export type ResultName = keyof ResultArrays;

/** Where a result array lives: its full channels-first shape; whether it is activation-shaped (and
 * returns in the caller's layout); which channel range of a worker piece it covers; and whether
 * pieces add up (parameter gradients summed over the batch) instead of tiling it. */
export interface ResultSpec {
  shape: number[];
  activation: boolean;
  channels: 'in' | 'out' | 'all';
  sum: boolean;
}

const activation = (shape: number[], channels: 'in' | 'out'): ResultSpec => ({ shape, activation: true, channels, sum: false });
const parameter = (shape: number[]): ResultSpec => ({ shape, activation: false, channels: 'all', sum: true });

/** The arrays a call returns and how each one is shaped and joined. */
export function resultSpecs(call: OpCall): Partial<Record<ResultName, ResultSpec>> {
  const p = call.problem;
  switch (call.kind) {
    case 'conv':
    case 'convTranspose':
    case 'deformConv':
      return { output: activation(p.outputShape, 'out') };
    case 'pool':
      return { output: activation(p.outputShape, 'out'), ...(call.problem.returnIndices && { indices: activation(p.outputShape, 'out') }) };
    case 'poolBackward':
      return { gradInput: activation(p.inputShape, 'in') };
    case 'convBackward':
    case 'convTransposeBackward':
    case 'deformConvBackward': {
      const q = call.problem;
      const specs: Partial<Record<ResultName, ResultSpec>> = {
        gradInput: activation(q.inputShape, 'in'),
        gradWeight: parameter(q.weightShape),
      };
      if (q.hasBias) specs.gradBias = parameter([q.outputShape[1]]);
      if (call.kind === 'deformConvBackward') {
        const d = call.problem;
        specs.gradOffset = { shape: d.offsetShape, activation: false, channels: 'all', sum: false };
        if (d.hasMask) specs.gradMask = { shape: [d.offsetShape[0], d.offsetShape[1] / 2, ...d.offsetShape.slice(2)], activation: false, channels: 'all', sum: false };
      }
      return specs;
    }
  }
}

/** Runs a call's backend method (by name: the same dispatch serves workers); a backend may write results into `into`. */
export function runBackend(backend: Backend, kind: OpKind, problem: OpCall['problem'], arrays: (Float32Array | undefined)[], into?: ResultArrays): ResultArrays {
  const [a, b, c, d, e] = arrays;
  switch (kind) {
    case 'conv':
      return { output: backend.conv(problem as ConvProblem, a!, b!, c, into?.output) };
    case 'convTranspose':
      return { output: backend.convTranspose(problem as ConvTransposeProblem, a!, b!, c) };
    case 'pool':
      return backend.pool(problem as PoolProblem, a!);
    case 'deformConv':
      return { output: backend.deformConv(problem as DeformConvProblem, a!, b!, c!, d, e) };
    case 'convBackward':
      return backend.convBackward(problem as ConvProblem, a!, b!, c!);
    case 'convTransposeBackward':
      return backend.convTransposeBackward(problem as ConvTransposeProblem, a!, b!, c!);
    case 'poolBackward':
      return backend.poolBackward(problem as PoolProblem, a!, b!);
    case 'deformConvBackward':
      return backend.deformConvBackward(problem as DeformConvProblem, a!, b!, c!, d, e!);
  }
}

/** Arrays for every result of a call: zero-filled by default (with an empty batch: empty
 * activations and zero parameter gradients); `alloc` supplies the float ones (the pool's recycled
 * buffers). */
export function newResults(call: OpCall, alloc: (length: number) => Float32Array = (length) => new Float32Array(length)): ResultArrays {
  const specs = Object.entries(resultSpecs(call)) as [ResultName, ResultSpec][];
  return Object.fromEntries(specs.map(([name, s]) => [name, name === 'indices' ? new Int32Array(product(s.shape)) : alloc(product(s.shape))]));
}

/** Runs a call on `backend` (after the memory check) and checks that every result has its shape. */
export function execute(backend: Backend, call: OpCall): ResultArrays {
  checkMemory(call);
  if (call.problem.inputShape[0] === 0) return newResults(call);
  const specs = Object.entries(resultSpecs(call)) as [ResultName, ResultSpec][];
  let result: ResultArrays;
  try {
    result = runBackend(backend, call.kind, call.problem, call.arrays);
  } catch (e) {
    // The backends validate again (defence in depth); their messages do not know the op's name.
    throw e instanceof ConvkitError ? withOp(call.op, e) : e;
  }
  for (const [name, spec] of specs) {
    if (result[name]?.length !== product(spec.shape)) {
      throw new Error(`${call.op}: backend ${backend.kind} returned ${result[name]?.length} values for ${name}, expected ${product(spec.shape)}`);
    }
  }
  return result;
}

export type CallResult = Tensor | { output: Tensor; indices: Int32Array } | Partial<Record<ResultName, Tensor>>;

/** Shapes channels-first results back to the caller's layout and batching: a tensor (or
 * `{ output, indices }`) for a forward call, the named gradients for a backward one. */
export function finishCall(call: OpCall, result: ResultArrays): CallResult {
  const specs = Object.entries(resultSpecs(call)) as [ResultName, ResultSpec][];
  const finished = Object.fromEntries(
    specs.map(([name, spec]) => {
      const data = result[name]!;
      return [name, spec.activation ? finishActivation(call.activation, data, spec.shape) : { data, shape: spec.shape }];
    }),
  ) as Record<ResultName, { data: Float32Array | Int32Array; shape: number[] }>;
  if (!call.kind.endsWith('Backward')) {
    if (!finished.indices) return finished.output as Tensor;
    return { output: finished.output as Tensor, indices: finished.indices.data as Int32Array };
  }
  return finished as Partial<Record<ResultName, Tensor>>;
}
