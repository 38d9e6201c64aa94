/** The wasm backend: one of three builds of the same Rust crate (relaxed SIMD, SIMD128 or scalar),
 * each with its own wasm-bindgen glue so they can be loaded side by side. */

import * as relaxedGlue from '../../../build/wasm/relaxed/convkit_wasm.js';
import * as simdGlue from '../../../build/wasm/simd/convkit_wasm.js';
import * as scalarGlue from '../../../build/wasm/scalar/convkit_wasm.js';
import { ConvkitError } from '../../api/errors.js';
import { ALGORITHMS, PADDING_MODES, type ConvProblem, type ConvTransposeProblem, type DeformConvProblem, type PoolProblem } from '../../api/problem.js';
import type { Backend, Gradients } from '../backend.js';
import { product } from '../../api/tensor.js';
import { KernelCache } from './kernel-cache.js';

export const WASM_FILES = { relaxed: 'convkit-relaxed.wasm', simd: 'convkit-simd.wasm', scalar: 'convkit-scalar.wasm' } as const;

/** A build of the wasm module: relaxed SIMD (SIMD128 with relaxed multiply-add), SIMD128, scalar. */
export type WasmBuild = keyof typeof WASM_FILES;

const GLUES = { relaxed: relaxedGlue, simd: simdGlue, scalar: scalarGlue } as const;

/** A minimal module using one SIMD128 instruction: validates only where SIMD is supported. */
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

export function simdSupported(): boolean {
  return typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
}

/** A minimal module whose one function returns f32x4.relaxed_madd of three zero vectors: validates
 * only where relaxed SIMD is supported (Chrome 114+; Node 20 behind --experimental-wasm-relaxed-simd). */
const RELAXED_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 19, 1, 17, 0, 65, 0, 253, 15, 65, 0, 253, 15, 65, 0, 253, 15, 253, 133, 2,
  11,
]);

export function relaxedSimdSupported(): boolean {
  return typeof WebAssembly === 'object' && WebAssembly.validate(RELAXED_PROBE);
}

/** Errors from Rust arrive as `Error("<CODE>: <message>")`. */
function toConvkitError(e: unknown): unknown {
  const message = e instanceof Error ? e.message : String(e);
  const match = /^([A-Z_]+): ([\s\S]*)$/.exec(message);
  if (match && ConvkitError.isCode(match[1])) return new ConvkitError(match[1], match[2]);
  return e;
}

/** Runs a glue call, turning Rust's coded errors into ConvkitErrors. */
function guarded<T>(call: () => T): T {
  try {
    return call();
  } catch (e) {
    throw toConvkitError(e);
  }
}

const u32 = (v: readonly number[]) => Uint32Array.from(v);

/** The result object every backward export returns: move each gradient out, then free it. */
interface GradientResult {
  takeInput(): Float32Array;
  takeWeight(): Float32Array | undefined;
  takeBias(): Float32Array | undefined;
  takeOffset(): Float32Array | undefined;
  takeMask(): Float32Array | undefined;
  free(): void;
}

function gradients(call: () => GradientResult): Gradients {
  const result = guarded(call);
  try {
    const named: Gradients = { gradInput: result.takeInput() };
    const optional = { gradWeight: result.takeWeight(), gradBias: result.takeBias(), gradOffset: result.takeOffset(), gradMask: result.takeMask() };
    for (const [name, value] of Object.entries(optional)) if (value) named[name as keyof Gradients] = value;
    return named;
  } finally {
    result.free();
  }
}

/** Pooling kinds in the order of the Rust `PoolKind` codes. */
const POOL_KINDS = ['max', 'min', 'avg'] as const;

// Each op's options as its wasm exports take them (forward and backward alike), after the arrays.
const convOptions = (p: ConvProblem) =>
  [u32(p.stride), u32(p.dilation), u32(p.padBefore), u32(p.padAfter), PADDING_MODES.indexOf(p.paddingMode), p.groups, p.flip] as const;
const transposeOptions = (p: ConvTransposeProblem) => [u32(p.stride), u32(p.padding), u32(p.outputPadding), u32(p.dilation), p.groups] as const;
const deformOptions = (p: DeformConvProblem) => [u32(p.stride), u32(p.padding), u32(p.dilation), p.groups] as const;
const poolOptions = (p: PoolProblem) =>
  [POOL_KINDS.indexOf(p.kind), u32(p.kernel), u32(p.stride), u32(p.padding), u32(p.dilation), p.ceilMode, p.countIncludePad, p.divisorOverride] as const;

/** What a prepared conv kernel depends on: the problem without its batch. */
function convSignature({ inputShape, outputShape, ...rest }: ConvProblem): string {
  return JSON.stringify([inputShape.slice(1), outputShape.slice(1), rest]);
}

/** What a prepared transposed-conv kernel depends on: the problem without its batch. */
function transposeSignature({ inputShape, outputShape, ...rest }: ConvTransposeProblem): string {
  return JSON.stringify(['transpose', inputShape.slice(1), outputShape.slice(1), rest]);
}

interface BufferedKernel {
  inputBuffer(batch: number): number;
  run(bias: Float32Array | undefined): number;
}

/** Runs a prepared kernel straight into and out of its own buffers; the result is a copy (or `into`). */
function runKernel(
  kernel: BufferedKernel,
  memory: WebAssembly.Memory,
  { inputShape, outputShape }: { inputShape: number[]; outputShape: number[] },
  input: Float32Array,
  bias: Float32Array | undefined,
  into?: Float32Array,
): Float32Array {
  // A call that allocates can grow the memory and detach views of it, so each view is made after
  // the call returning its address.
  const at = kernel.inputBuffer(inputShape[0]);
  new Float32Array(memory.buffer, at, product(inputShape)).set(input);
  const output = kernel.run(bias);
  const result = new Float32Array(memory.buffer, output, product(outputShape));
  if (!into) return result.slice();
  into.set(result);
  return into;
}

export async function createWasmBackend(build: WasmBuild, bytes: BufferSource): Promise<Backend> {
  const glue = GLUES[build];
  const exports = await glue.default({ module_or_path: bytes });
  if (glue.simdEnabled() !== (build !== 'scalar') || glue.relaxedSimdEnabled() !== (build === 'relaxed')) {
    throw new ConvkitError('UNSUPPORTED', `the ${build} wasm file holds another build`);
  }
  const kernels = new KernelCache<InstanceType<typeof glue.ConvKernel> | InstanceType<typeof glue.TransposeKernel>>();
  return {
    kind: build === 'scalar' ? 'wasm' : 'wasm-simd',
    memoryBytes: () => exports.memory.buffer.byteLength,
    conv(p, input, weight, bias, into) {
      return guarded(() => {
        const kernel = kernels.get(weight, convSignature(p), () =>
          new glue.ConvKernel(u32(p.inputShape), weight, u32(p.weightShape), p.hasBias, ...convOptions(p), ALGORITHMS.indexOf(p.algorithm)),
        );
        return runKernel(kernel, exports.memory, p, input, bias, into);
      });
    },
    clearCache: () => kernels.clear(),
    convTranspose(p, input, weight, bias) {
      return guarded(() => {
        // In the same cache as conv kernels (one bound, one clearCache); the tagged signature never matches a conv one.
        const kernel = kernels.get(weight, transposeSignature(p), () =>
          new glue.TransposeKernel(u32(p.inputShape), weight, u32(p.weightShape), p.hasBias, ...transposeOptions(p)),
        );
        return runKernel(kernel, exports.memory, p, input, bias);
      });
    },
    deformConv(p, input, offset, weight, mask, bias) {
      return guarded(() => glue.deformConv(input, u32(p.inputShape), offset, u32(p.offsetShape), weight, u32(p.weightShape), mask, bias, ...deformOptions(p)));
    },
    convBackward(p, input, weight, gradOutput) {
      return gradients(() => glue.convBackward(input, u32(p.inputShape), weight, u32(p.weightShape), gradOutput, p.hasBias, ...convOptions(p)));
    },
    convTransposeBackward(p, input, weight, gradOutput) {
      return gradients(() => glue.convTransposeBackward(input, u32(p.inputShape), weight, u32(p.weightShape), gradOutput, p.hasBias, ...transposeOptions(p)));
    },
    deformConvBackward(p, input, offset, weight, mask, gradOutput) {
      return gradients(() =>
        glue.deformConvBackward(input, u32(p.inputShape), offset, u32(p.offsetShape), weight, u32(p.weightShape), mask, gradOutput, p.hasBias, ...deformOptions(p)),
      );
    },
    poolBackward(p, input, gradOutput) {
      return gradients(() => glue.poolBackward(input, u32(p.inputShape), gradOutput, ...poolOptions(p)));
    },
    pool(p, input) {
      const result = guarded(() => glue.pool(input, u32(p.inputShape), ...poolOptions(p), p.returnIndices));
      try {
        const output = result.takeOutput();
        const indices = result.takeIndices();
        return indices ? { output, indices } : { output };
      } finally {
        result.free();
      }
    },
  };
}
