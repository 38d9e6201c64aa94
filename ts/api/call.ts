/** One representation of a validated call for every op, so direct calls and the worker pool run
 * every op through the same few functions. */

import type { Backend, OpKind, PoolOutput } from '../backends/backend.js';
import { finishActivation, type Activation, type BackendName } from './options.js';
import type { ConvProblem, ConvTransposeProblem, DeformConvProblem, PoolProblem } from './problem.js';
import { product, type Tensor } from './tensor.js';

export type OpCall =
  | (CallBase & { kind: 'conv'; problem: ConvProblem })
  | (CallBase & { kind: 'convTranspose'; problem: ConvTransposeProblem })
  | (CallBase & { kind: 'pool'; problem: PoolProblem })
  | (CallBase & { kind: 'deformConv'; problem: DeformConvProblem });

interface CallBase {
  /** The public op name, for messages. */
  op: string;
  kind: OpKind;
  /** The backend method's array arguments; the first one is the batched activation (for
   * deformConv the offset and mask, arrays 1 and 3, are batched too). */
  arrays: (Float32Array | undefined)[];
  activation: Activation;
  backend: BackendName | undefined;
  returnIndices: boolean;
}

export type CallResult = Tensor | { output: Tensor; indices: Int32Array };

/** Runs a call's backend method (by name: the same dispatch serves workers). */
export function runBackend(backend: Backend, kind: OpKind, problem: OpCall['problem'], arrays: (Float32Array | undefined)[]): PoolOutput {
  switch (kind) {
    case 'conv':
      return { output: backend.conv(problem as ConvProblem, arrays[0]!, arrays[1]!, arrays[2]) };
    case 'convTranspose':
      return { output: backend.convTranspose(problem as ConvTransposeProblem, arrays[0]!, arrays[1]!, arrays[2]) };
    case 'pool':
      return backend.pool(problem as PoolProblem, arrays[0]!);
    case 'deformConv':
      return { output: backend.deformConv(problem as DeformConvProblem, arrays[0]!, arrays[1]!, arrays[2]!, arrays[3], arrays[4]) };
  }
}

/** Runs a call on `backend`; an empty batch needs no backend. */
export function execute(backend: Backend, call: OpCall): PoolOutput {
  if (call.problem.inputShape[0] === 0) return { output: new Float32Array(0), indices: new Int32Array(0) };
  const result = runBackend(backend, call.kind, call.problem, call.arrays);
  if (result.output.length !== product(call.problem.outputShape)) {
    throw new Error(`${call.op}: backend ${backend.kind} returned ${result.output.length} values, expected ${product(call.problem.outputShape)}`);
  }
  return result;
}

/** Shapes a channels-first result back to the caller's layout and batching. */
export function finishCall(call: OpCall, result: PoolOutput): CallResult {
  const output = finishActivation(call.activation, result.output, call.problem.outputShape);
  if (!call.returnIndices) return output;
  return { output, indices: finishActivation(call.activation, result.indices!, call.problem.outputShape).data };
}
