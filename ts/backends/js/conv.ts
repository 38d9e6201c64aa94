/** Convolution in plain TypeScript: pad once with the shared padding map, then run a "valid"
 * convolution, either as a blocked GEMM over gathered im2col panels (many output channels) or as
 * a direct loop (depthwise and other narrow groups, where packing would not pay off). */

import { unsupported } from '../../api/errors.js';
import type { ConvProblem } from '../../api/problem.js';
import { convDirect } from './conv-direct.js';
import { gemm, MR, packA } from './gemm.js';
import { lift } from './lift.js';
import { padImage } from './padding.js';

/** A convolution's sizes lifted to three spatial axes, and where each kernel tap (unflipped) reads
 * inside a padded plane. */
export function convGeometry(p: ConvProblem) {
  const [batch, channels, ...spatial] = p.inputShape;
  const [outChannels, inPerGroup, ...kernelSpatial] = p.weightShape;
  const size = lift(spatial, 1);
  const kernel = lift(kernelSpatial, 1);
  const out = lift(p.outputShape.slice(2), 1);
  const dilation = lift(p.dilation, 1);
  const before = lift(p.padBefore, 0);
  const after = lift(p.padAfter, 0);
  const stride = lift(p.stride, 1);
  const ph = size[1] + before[1] + after[1];
  const pw = size[2] + before[2] + after[2];
  const taps = kernel[0] * kernel[1] * kernel[2];
  const tapOffset = new Int32Array(taps);
  let t = 0;
  for (let kd = 0; kd < kernel[0]; kd++)
    for (let kh = 0; kh < kernel[1]; kh++)
      for (let kw = 0; kw < kernel[2]; kw++) tapOffset[t++] = (kd * dilation[0] * ph + kh * dilation[1]) * pw + kw * dilation[2];
  const outPlane = out[0] * out[1] * out[2];
  // Where each output pixel's window starts inside a padded plane.
  const pixelOffset = new Int32Array(outPlane);
  let q = 0;
  for (let z = 0; z < out[0]; z++)
    for (let y = 0; y < out[1]; y++)
      for (let x = 0; x < out[2]; x++) pixelOffset[q++] = (z * stride[0] * ph + y * stride[1]) * pw + x * stride[2];
  return {
    batch,
    channels,
    outChannels,
    inPerGroup,
    outPerGroup: outChannels / p.groups,
    size,
    kernel,
    dilation,
    out,
    stride,
    before,
    after,
    ph,
    pw,
    paddedPlane: (size[0] + before[0] + after[0]) * ph * pw,
    inPlane: size[0] * size[1] * size[2],
    outPlane,
    taps,
    tapOffset,
    pixelOffset,
  };
}

/** Each kernel rotated 180 degrees: its taps in reverse order. */
export function flipKernels(weight: Float32Array, taps: number): Float32Array {
  const out = new Float32Array(weight.length);
  for (let base = 0; base < weight.length; base += taps) {
    for (let k = 0; k < taps; k++) out[base + k] = weight[base + taps - 1 - k];
  }
  return out;
}

export type ConvGeometry = ReturnType<typeof convGeometry>;

/** The JS backend's plan: GEMM once a group has enough output channels to fill the microkernel's
 * rows (packing B then serves MR rows at a time), direct otherwise. */
export function convMethod(p: ConvProblem): 'gemm' | 'direct' {
  if (p.algorithm === 'direct') return 'direct';
  if (p.algorithm === 'im2col') return 'gemm';
  return p.weightShape[0] / p.groups >= MR ? 'gemm' : 'direct';
}

/** The weight of each group as GEMM's A (rows co, columns (ci, tap)), packed once per call. */
function packWeights(g: ConvGeometry, weight: Float32Array, groups: number): Float32Array[] {
  const k = g.inPerGroup * g.taps;
  return Array.from({ length: groups }, (_, group) => packA(weight, group * g.outPerGroup * k, k, 1, g.outPerGroup, k));
}

/** One sample as GEMM per group: C[co, pixel] += W[co, (ci, tap)] * padded[ci, tap + pixel]. */
function convGemm(g: ConvGeometry, tapOffset: Int32Array, padded: Float32Array, packed: Float32Array[], result: Float32Array, resultOffset: number): void {
  const { inPerGroup, outPerGroup, taps, paddedPlane, outPlane } = g;
  const k = inPerGroup * taps;
  const rowOffset = new Int32Array(k);
  packed.forEach((a, group) => {
    for (let ci = 0; ci < inPerGroup; ci++) {
      for (let t = 0; t < taps; t++) rowOffset[ci * taps + t] = (group * inPerGroup + ci) * paddedPlane + tapOffset[t];
    }
    gemm(outPerGroup, outPlane, k, a, padded, rowOffset, g.pixelOffset, result, resultOffset + group * outPerGroup * outPlane, outPlane);
  });
}

export function convJs(p: ConvProblem, input: Float32Array, weight: Float32Array, bias: Float32Array | undefined): Float32Array {
  // Asked for by name, an algorithm this backend lacks is an error, never a silent fallback.
  if (p.algorithm === 'winograd' || p.algorithm === 'fft') {
    throw unsupported(`algorithm '${p.algorithm}' is not available on the js backend; use the wasm backend or 'auto', 'direct' or 'im2col'`);
  }
  const g = convGeometry(p);
  const { channels, outChannels, inPlane, outPlane } = g;
  // Flipping the kernel reverses the tap order.
  const tapOffset = p.flip ? g.tapOffset.slice().reverse() : g.tapOffset;
  const unpadded = [...g.before, ...g.after].every((v) => v === 0);
  const method = convMethod(p);
  // The direct loop walks kernel rows in order, so it takes the kernel flipped instead.
  const flipped = p.flip && method === 'direct' ? flipKernels(weight, g.taps) : undefined;
  const packed = method === 'gemm' ? packWeights(g, weight, p.groups) : [];
  const result = new Float32Array(g.batch * outChannels * outPlane);
  for (let n = 0; n < g.batch; n++) {
    const image = input.subarray(n * channels * inPlane, (n + 1) * channels * inPlane);
    const padded = unpadded ? image : padImage(image, channels, g.size, g.before, g.after, p.paddingMode);
    const offset = n * outChannels * outPlane;
    if (method === 'direct') {
      convDirect(g, padded, flipped ?? weight, bias, result, offset);
    } else {
      for (let co = 0; co < outChannels; co++) result.fill(bias ? bias[co] : 0, offset + co * outPlane, offset + (co + 1) * outPlane);
      convGemm(g, tapOffset, padded, packed, result, offset);
    }
  }
  return result;
}
