import type { ConvProblem, ConvTransposeProblem, DeformConvProblem, PoolProblem } from '../api/problem.js';

export type BackendKind = 'wasm-simd' | 'wasm' | 'js';

export interface PoolOutput {
  output: Float32Array;
  /** Max/min pooling only: PyTorch's flat per-plane index of each picked element. */
  indices?: Int32Array;
}

/** What every compute backend implements. Problems arrive validated and normalized
 * (channels-first, batched); outputs are new channels-first arrays of `product(outputShape)`. */
export interface Backend {
  readonly kind: BackendKind;
  conv(problem: ConvProblem, input: Float32Array, weight: Float32Array, bias: Float32Array | undefined): Float32Array;
  convTranspose(problem: ConvTransposeProblem, input: Float32Array, weight: Float32Array, bias: Float32Array | undefined): Float32Array;
  pool(problem: PoolProblem, input: Float32Array): PoolOutput;
  deformConv(
    problem: DeformConvProblem,
    input: Float32Array,
    offset: Float32Array,
    weight: Float32Array,
    mask: Float32Array | undefined,
    bias: Float32Array | undefined,
  ): Float32Array;
}

/** The backend methods by name: what a call (and a worker message) names. */
export type OpKind = 'conv' | 'convTranspose' | 'pool' | 'deformConv';
