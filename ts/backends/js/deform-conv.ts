/** Deformable convolution in TypeScript (torchvision deform_conv2d semantics; see
 * crates/convkit-core/src/deform.rs). */

import type { DeformConvProblem } from '../../api/problem.js';

/** torchvision's bilinear sample: zero outside, corners outside the plane count as zero. */
function bilinear(src: Float32Array, base: number, h: number, w: number, y: number, x: number): number {
  if (y <= -1 || y >= h || x <= -1 || x >= w) return 0;
  const y0 = Math.floor(y);
  const x0 = Math.floor(x);
  const ly = y - y0;
  const lx = x - x0;
  const at = (yy: number, xx: number) => (yy >= 0 && xx >= 0 && yy < h && xx < w ? src[base + yy * w + xx] : 0);
  return (1 - ly) * (1 - lx) * at(y0, x0) + (1 - ly) * lx * at(y0, x0 + 1) + ly * (1 - lx) * at(y0 + 1, x0) + ly * lx * at(y0 + 1, x0 + 1);
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
  const [, , ho, wo] = p.outputShape;
  const taps = kh * kw;
  const plane = ho * wo;
  const offsetGroups = p.offsetShape[1] / (2 * taps);
  const perOffsetGroup = channels / offsetGroups;
  const outPerGroup = outChannels / p.groups;
  const out = new Float32Array(batch * outChannels * plane);
  const sampled = new Float32Array(plane);
  for (let n = 0; n < batch; n++) {
    for (let co = 0; co < outChannels; co++) out.fill(bias ? bias[co] : 0, (n * outChannels + co) * plane, (n * outChannels + co + 1) * plane);
    for (let c = 0; c < channels; c++) {
      const og = Math.floor(c / perOffsetGroup);
      const group = Math.floor(c / inPerGroup);
      const src = (n * channels + c) * h * w;
      for (let tap = 0; tap < taps; tap++) {
        const i = Math.floor(tap / kw);
        const j = tap % kw;
        const dy = ((n * offsetGroups + og) * 2 * taps + 2 * tap) * plane;
        const dx = dy + plane;
        const m = ((n * offsetGroups + og) * taps + tap) * plane;
        for (let oy = 0; oy < ho; oy++) {
          for (let ox = 0; ox < wo; ox++) {
            const q = oy * wo + ox;
            const y = oy * p.stride[0] - p.padding[0] + i * p.dilation[0] + offset[dy + q];
            const x = ox * p.stride[1] - p.padding[1] + j * p.dilation[1] + offset[dx + q];
            const v = bilinear(input, src, h, w, y, x);
            sampled[q] = mask ? v * mask[m + q] : v;
          }
        }
        for (let col = 0; col < outPerGroup; col++) {
          const co = group * outPerGroup + col;
          const wv = weight[((co * inPerGroup + (c - group * inPerGroup)) * kh + i) * kw + j];
          const dst = (n * outChannels + co) * plane;
          for (let q = 0; q < plane; q++) out[dst + q] += wv * sampled[q];
        }
      }
    }
  }
  return out;
}
