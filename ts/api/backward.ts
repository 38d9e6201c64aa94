/** Backward calls: a forward call (whose normalization already checked every argument and
 * option) turned into its gradient call once the output gradient is checked against the forward
 * output's shape, in the caller's layout and batching. */

import type { OpCall } from './call.js';
import { mismatch } from './errors.js';
import { callerShape, readActivation } from './options.js';
import { checkTensor, type Tensor } from './tensor.js';

/** `conv*`, `convTranspose*`, `depthwiseConv2d`, `pointwiseConv2d`. */
export interface ConvGradients {
  gradInput: Tensor;
  gradWeight: Tensor;
  /** Present when the forward call had a bias. */
  gradBias?: Tensor;
}

export interface PoolGradients {
  gradInput: Tensor;
}

export interface DeformConvGradients {
  gradInput: Tensor;
  gradOffset: Tensor;
  gradWeight: Tensor;
  /** Present when the forward call had a mask. */
  gradMask?: Tensor;
  gradBias?: Tensor;
}

export interface SeparableConvGradients {
  gradInput: Tensor;
  gradDepthwiseWeight: Tensor;
  gradPointwiseWeight: Tensor;
  gradDepthwiseBias?: Tensor;
  gradBias?: Tensor;
}

export interface SepFilterGradients {
  gradInput: Tensor;
  gradKernelY: Float32Array;
  gradKernelX: Float32Array;
}

const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);

/** Checks that `gradOutput` is a tensor of the forward output's shape (in the caller's terms). */
export function checkGradOutput(forward: OpCall, gradOutput: unknown): Tensor {
  const { op, problem, activation } = forward;
  const expected = callerShape(activation, problem.outputShape);
  const t = checkTensor(op, 'gradOutput', gradOutput, [expected.length]);
  if (!same(t.shape, expected)) {
    throw mismatch(`${op}: gradOutput must have the forward output's shape [${expected.join(', ')}], got [${t.shape.join(', ')}]`);
  }
  return t;
}

export function backwardCall(forward: OpCall, gradOutput: unknown): OpCall {
  const { op, problem, activation } = forward;
  const t = checkGradOutput(forward, gradOutput);
  const dy = readActivation(op, 'gradOutput', t, problem.inputShape.length - 2, activation.layout).data;
  const [x, second, third, fourth] = forward.arrays;
  switch (forward.kind) {
    case 'conv':
      return { ...forward, kind: 'convBackward', arrays: [x, second, dy] };
    case 'convTranspose':
      return { ...forward, kind: 'convTransposeBackward', arrays: [x, second, dy] };
    case 'pool':
      return { ...forward, kind: 'poolBackward', arrays: [x, dy] };
    case 'deformConv':
      return { ...forward, kind: 'deformConvBackward', arrays: [x, second, third, fourth, dy] };
    default:
      throw new Error(`${op}: ${forward.kind} is already a backward call`);
  }
}
