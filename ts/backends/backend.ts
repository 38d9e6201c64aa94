import type { ConvProblem, ConvTransposeProblem, DeformConvProblem, PoolProblem } from '../api/problem.js';

export type BackendKind = 'wasm-simd' | 'wasm' | 'js';

export interface PoolOutput {
  output: Float32Array;
  /** Max/min pooling only: PyTorch's flat per-plane index of each picked element. */
  indices?: Int32Array;
}

/** What a backward method returns: the gradient of every differentiable argument, channels-first.
 * `gradBias` is present when the problem has a bias, `gradMask` when it has a mask. */
export interface Gradients {
  gradInput: Float32Array;
  gradWeight?: Float32Array;
  gradBias?: Float32Array;
  gradOffset?: Float32Array;
  gradMask?: Float32Array;
}

/** What every compute backend implements. Problems arrive validated and normalized
 * (channels-first, batched); results are new channels-first arrays. A backward method receives the
 * forward's arguments plus the output gradient (shaped like the forward's output). */
export interface Backend {
  readonly kind: BackendKind;
  /** Wasm backends: the current size of the linear memory in bytes (it grows, never shrinks). */
  memoryBytes?(): number;
  /** Wasm backends: frees the prepared convolution kernels kept for reuse. */
  clearCache?(): void;
  /** `into`: where the result may be written (the pool's buffers); the returned array holds it. */
  conv(problem: ConvProblem, input: Float32Array, weight: Float32Array, bias: Float32Array | undefined, into?: Float32Array): Float32Array;
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
  convBackward(problem: ConvProblem, input: Float32Array, weight: Float32Array, gradOutput: Float32Array): Gradients;
  convTransposeBackward(problem: ConvTransposeProblem, input: Float32Array, weight: Float32Array, gradOutput: Float32Array): Gradients;
  poolBackward(problem: PoolProblem, input: Float32Array, gradOutput: Float32Array): Gradients;
  deformConvBackward(
    problem: DeformConvProblem,
    input: Float32Array,
    offset: Float32Array,
    weight: Float32Array,
    mask: Float32Array | undefined,
    gradOutput: Float32Array,
  ): Gradients;
}

export type ForwardKind = 'conv' | 'convTranspose' | 'pool' | 'deformConv';
export type BackwardKind = `${ForwardKind}Backward`;
/** The backend methods by name: what a call (and a worker message) names. */
export type OpKind = ForwardKind | BackwardKind;

/** Every array a backend method can return, by name. */
export type ResultArrays = Partial<PoolOutput & Gradients>;
