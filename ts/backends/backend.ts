import type { ConvProblem } from '../api/problem.js';

export type BackendKind = 'wasm-simd' | 'wasm' | 'js';

/** What every compute backend implements. Problems arrive validated and normalized
 * (channels-first, batched); outputs are new channels-first arrays of `product(outputShape)`. */
export interface Backend {
  readonly kind: BackendKind;
  conv(problem: ConvProblem, input: Float32Array, weight: Float32Array, bias: Float32Array | undefined): Float32Array;
}
