/** Gradients of convolution and transposed convolution in TypeScript, from the forward loops (see
 * crates/convkit-core/src/backward.rs): a convolution's input gradient is a transposed convolution
 * onto the padded input folded back through the padding map; its weight gradient correlates the
 * padded input with the output gradient; a transposed convolution's gradients are those of the
 * convolution it is the adjoint of. */

import type { ConvProblem, ConvTransposeProblem } from '../../api/problem.js';
import { product } from '../../api/tensor.js';
import type { Gradients } from '../backend.js';
import { convGeometry, convJs, convMethod, flipKernels } from './conv.js';
import { convTransposeJs } from './conv-transpose.js';
import { gemm, packA } from './gemm.js';
import { padImage, unpadAdd } from './padding.js';

/** Output pixels per weight-gradient GEMM (its K), a multiple of the GEMM's K block. */
const PIXELS = 4096;

/** Per-channel sum of `[N, C, plane]`. */
export function biasGrad(gradOutput: Float32Array, channels: number, plane: number): Float32Array {
  const sums = new Float64Array(channels);
  for (let i = 0; i < gradOutput.length; i++) sums[Math.floor(i / plane) % channels] += gradOutput[i];
  return Float32Array.from(sums);
}

/** dW[co, ci, tap] = sum over samples and output positions p of dY[co, p] * paddedX[ci, tap + p]
 * (for the unflipped kernel): per group a GEMM dY[co, p] * B[p, (ci, tap)] with B gathered from
 * the padded input, or, for groups too narrow for GEMM, one dot product per weight. */
function convWeightGrad(p: ConvProblem, input: Float32Array, gradOutput: Float32Array): Float32Array {
  const g = convGeometry(p);
  const [od, oh, ow] = g.out;
  const [sd, sh, sw] = g.stride;
  const { inPerGroup, outPerGroup, taps, outPlane, paddedPlane } = g;
  const grad = new Float32Array(product(p.weightShape));
  const k = inPerGroup * taps;
  const colOffset = new Int32Array(k);
  const method = convMethod(p);
  for (let n = 0; n < g.batch; n++) {
    const image = input.subarray(n * g.channels * g.inPlane, (n + 1) * g.channels * g.inPlane);
    const padded = padImage(image, g.channels, g.size, g.before, g.after, p.paddingMode);
    if (method === 'gemm') {
      for (let group = 0; group < p.groups; group++) {
        for (let ci = 0; ci < inPerGroup; ci++) {
          for (let t = 0; t < taps; t++) colOffset[ci * taps + t] = (group * inPerGroup + ci) * paddedPlane + g.tapOffset[t];
        }
        // K runs over output pixels: packing dY a chunk at a time bounds the scratch.
        for (let p0 = 0; p0 < outPlane; p0 += PIXELS) {
          const kc = Math.min(PIXELS, outPlane - p0);
          const dy = packA(gradOutput, (n * g.outChannels + group * outPerGroup) * outPlane + p0, outPlane, 1, outPerGroup, kc);
          gemm(outPerGroup, k, kc, dy, padded, g.pixelOffset.subarray(p0, p0 + kc), colOffset, grad, group * outPerGroup * k, k);
        }
      }
    } else {
      for (let co = 0; co < g.outChannels; co++) {
        const group = Math.floor(co / outPerGroup);
        const dyBase = (n * g.outChannels + co) * outPlane;
        for (let ci = 0; ci < inPerGroup; ci++) {
          const srcBase = (group * inPerGroup + ci) * paddedPlane;
          const wBase = (co * inPerGroup + ci) * taps;
          for (let t = 0; t < taps; t++) {
            const tap = srcBase + g.tapOffset[t];
            let acc = 0;
            for (let z = 0; z < od; z++) {
              for (let y = 0; y < oh; y++) {
                const src = tap + (z * sd * g.ph + y * sh) * g.pw;
                const dy = dyBase + (z * oh + y) * ow;
                for (let x = 0; x < ow; x++) acc += gradOutput[dy + x] * padded[src + x * sw];
              }
            }
            grad[wBase + t] += acc;
          }
        }
      }
    }
  }
  return p.flip ? flipKernels(grad, taps) : grad;
}

export function convBackwardJs(p: ConvProblem, input: Float32Array, weight: Float32Array, gradOutput: Float32Array): Gradients {
  const g = convGeometry(p);
  const spatial = p.inputShape.slice(2);
  const kernel = p.weightShape.slice(2);
  const padded = spatial.map((s, a) => s + p.padBefore[a] + p.padAfter[a]);
  // The strided windows may stop short of the padded end: output padding covers the rest.
  const reached = p.outputShape.slice(2).map((o, a) => (o - 1) * p.stride[a] + p.dilation[a] * (kernel[a] - 1) + 1);
  const adjoint: ConvTransposeProblem = {
    inputShape: p.outputShape,
    weightShape: p.weightShape,
    outputShape: [g.batch, g.channels, ...padded],
    stride: p.stride,
    padding: spatial.map(() => 0),
    outputPadding: padded.map((s, a) => s - reached[a]),
    dilation: p.dilation,
    groups: p.groups,
    hasBias: false,
  };
  const gradPadded = convTransposeJs(adjoint, gradOutput, p.flip ? flipKernels(weight, g.taps) : weight, undefined);
  const gradInput = new Float32Array(product(p.inputShape));
  const image = g.channels * g.inPlane;
  const paddedImage = g.channels * g.paddedPlane;
  for (let n = 0; n < g.batch; n++) {
    unpadAdd(gradPadded.subarray(n * paddedImage, (n + 1) * paddedImage), g.channels, g.size, g.before, g.after, p.paddingMode, gradInput.subarray(n * image, (n + 1) * image));
  }
  return {
    gradInput,
    gradWeight: convWeightGrad(p, input, gradOutput),
    ...(p.hasBias && { gradBias: biasGrad(gradOutput, g.outChannels, g.outPlane) }),
  };
}

export function convTransposeBackwardJs(p: ConvTransposeProblem, input: Float32Array, weight: Float32Array, gradOutput: Float32Array): Gradients {
  // The convolution over this op's output whose output is its input.
  const adjoint: ConvProblem = {
    inputShape: p.outputShape,
    weightShape: p.weightShape,
    outputShape: p.inputShape,
    stride: p.stride,
    dilation: p.dilation,
    padBefore: p.padding,
    padAfter: p.padding,
    paddingMode: 'zeros',
    groups: p.groups,
    flip: false,
    algorithm: 'auto',
    hasBias: false,
  };
  return {
    gradInput: convJs(adjoint, gradOutput, weight, undefined),
    gradWeight: convWeightGrad(adjoint, gradOutput, input),
    ...(p.hasBias && { gradBias: biasGrad(gradOutput, p.outputShape[1], product(p.outputShape.slice(2))) }),
  };
}
