/** Deformable convolution and its gradients in TypeScript (torchvision deform_conv2d semantics; see
 * crates/convkit-core/src/deform.rs). */

import type { DeformConvProblem } from '../../api/problem.js';
import type { Gradients } from '../backend.js';
import { biasGrad } from './conv-backward.js';

/** The four pixels around (y, x), corners outside the `h x w` plane reading zero, and the
 * fractional offsets (ly, lx) from the top-left one. */
function corners(src: Float32Array, base: number, h: number, w: number, y: number, x: number): [number, number, number, number, number, number] {
  const y0 = Math.floor(y);
  const x0 = Math.floor(x);
  const at = (yy: number, xx: number) => (yy >= 0 && xx >= 0 && yy < h && xx < w ? src[base + yy * w + xx] : 0);
  return [at(y0, x0), at(y0, x0 + 1), at(y0 + 1, x0), at(y0 + 1, x0 + 1), y - y0, x - x0];
}

/** torchvision's bilinear sample: zero outside, corners outside the plane count as zero. */
function bilinear(src: Float32Array, base: number, h: number, w: number, y: number, x: number): number {
  if (y <= -1 || y >= h || x <= -1 || x >= w) return 0;
  const [v00, v01, v10, v11, ly, lx] = corners(src, base, h, w, y, x);
  return (1 - ly) * (1 - lx) * v00 + (1 - ly) * lx * v01 + ly * (1 - lx) * v10 + ly * lx * v11;
}

/** torchvision's get_coordinate_weight: the derivative of the bilinear sample along y (or x). */
function coordinateWeight(src: Float32Array, base: number, h: number, w: number, y: number, x: number, alongY: boolean): number {
  const [v00, v01, v10, v11, ly, lx] = corners(src, base, h, w, y, x);
  return alongY ? lx * (v11 - v01) + (1 - lx) * (v10 - v00) : ly * (v11 - v10) + (1 - ly) * (v01 - v00);
}

/** The adjoint of `bilinear` (torchvision's deformable_col2im): adds `v` times each corner weight. */
function scatterBilinear(dst: Float32Array, base: number, h: number, w: number, y: number, x: number, v: number): void {
  const yi = Math.trunc(y);
  const xi = Math.trunc(x);
  for (let yp = yi - 1; yp <= yi + 1; yp++) {
    for (let xp = xi - 1; xp <= xi + 1; xp++) {
      const ey = Math.abs(y - yp);
      const ex = Math.abs(x - xp);
      if (yp >= 0 && xp >= 0 && yp < h && xp < w && ey < 1 && ex < 1) dst[base + yp * w + xp] += (1 - ey) * (1 - ex) * v;
    }
  }
}

/** Calls `f` for every (sample, channel, tap, output position) with where that tap samples. */
function forEachSample(
  p: DeformConvProblem,
  offset: Float32Array,
  f: (n: number, c: number, i: number, j: number, q: number, y: number, x: number, dyAt: number, maskAt: number) => void,
): void {
  const [batch, channels] = p.inputShape;
  const [, , kh, kw] = p.weightShape;
  const [, , ho, wo] = p.outputShape;
  const taps = kh * kw;
  const plane = ho * wo;
  const offsetGroups = p.offsetShape[1] / (2 * taps);
  const perOffsetGroup = channels / offsetGroups;
  for (let n = 0; n < batch; n++) {
    for (let c = 0; c < channels; c++) {
      const og = Math.floor(c / perOffsetGroup);
      for (let tap = 0; tap < taps; tap++) {
        const i = Math.floor(tap / kw);
        const j = tap % kw;
        const dy = ((n * offsetGroups + og) * 2 * taps + 2 * tap) * plane;
        const m = ((n * offsetGroups + og) * taps + tap) * plane;
        for (let q = 0; q < plane; q++) {
          const y = Math.floor(q / wo) * p.stride[0] - p.padding[0] + i * p.dilation[0] + offset[dy + q];
          const x = (q % wo) * p.stride[1] - p.padding[1] + j * p.dilation[1] + offset[dy + plane + q];
          f(n, c, i, j, q, y, x, dy + q, m + q);
        }
      }
    }
  }
}

export function deformConvJs(
  p: DeformConvProblem,
  input: Float32Array,
  offset: Float32Array,
  weight: Float32Array,
  mask: Float32Array | undefined,
  bias: Float32Array | undefined,
): Float32Array {
  const [batch, channels, h, w] = p.inputShape;
  const [outChannels, inPerGroup, kh, kw] = p.weightShape;
  const plane = p.outputShape[2] * p.outputShape[3];
  const outPerGroup = outChannels / p.groups;
  const out = new Float32Array(batch * outChannels * plane);
  for (let n = 0; n < batch; n++) {
    for (let co = 0; co < outChannels; co++) out.fill(bias ? bias[co] : 0, (n * outChannels + co) * plane, (n * outChannels + co + 1) * plane);
  }
  forEachSample(p, offset, (n, c, i, j, q, y, x, _dyAt, maskAt) => {
    const v = bilinear(input, (n * channels + c) * h * w, h, w, y, x);
    const sampled = mask ? v * mask[maskAt] : v;
    const group = Math.floor(c / inPerGroup);
    for (let col = 0; col < outPerGroup; col++) {
      const co = group * outPerGroup + col;
      out[(n * outChannels + co) * plane + q] += weight[((co * inPerGroup + (c - group * inPerGroup)) * kh + i) * kw + j] * sampled;
    }
  });
  return out;
}

/** Gradients: each sampled column value gets `dcol = sum_co W[co, c, tap] * dY[co, q]`, which flows
 * to the input through the bilinear weights, to the offsets through their derivatives and to the
 * mask; the weight gets `dY * sampled`. */
export function deformConvBackwardJs(
  p: DeformConvProblem,
  input: Float32Array,
  offset: Float32Array,
  weight: Float32Array,
  mask: Float32Array | undefined,
  gradOutput: Float32Array,
): Gradients {
  const [, channels, h, w] = p.inputShape;
  const [outChannels, inPerGroup, kh, kw] = p.weightShape;
  const plane = p.outputShape[2] * p.outputShape[3];
  const outPerGroup = outChannels / p.groups;
  const gradInput = new Float32Array(input.length);
  const gradOffset = new Float32Array(offset.length);
  const gradWeight = new Float32Array(weight.length);
  const gradMask = mask && new Float32Array(mask.length);
  forEachSample(p, offset, (n, c, i, j, q, y, x, dyAt, maskAt) => {
    const base = (n * channels + c) * h * w;
    const v = bilinear(input, base, h, w, y, x);
    const m = mask ? mask[maskAt] : 1;
    const group = Math.floor(c / inPerGroup);
    let dcol = 0;
    for (let col = 0; col < outPerGroup; col++) {
      const co = group * outPerGroup + col;
      const wAt = ((co * inPerGroup + (c - group * inPerGroup)) * kh + i) * kw + j;
      const dy = gradOutput[(n * outChannels + co) * plane + q];
      dcol += weight[wAt] * dy;
      gradWeight[wAt] += dy * m * v;
    }
    gradOffset[dyAt] += m * dcol * coordinateWeight(input, base, h, w, y, x, true);
    gradOffset[dyAt + plane] += m * dcol * coordinateWeight(input, base, h, w, y, x, false);
    if (gradMask) gradMask[maskAt] += dcol * v;
    scatterBilinear(gradInput, base, h, w, y, x, m * dcol);
  });
  return {
    gradInput,
    gradOffset,
    gradWeight,
    ...(gradMask && { gradMask }),
    ...(p.hasBias && { gradBias: biasGrad(gradOutput, outChannels, plane) }),
  };
}
