/** Direct convolution for few output channels per group (depthwise, single-channel filters): no
 * packing to amortize, so each output row is computed in chunks of eight pixels whose sums stay in
 * locals across every input channel and kernel tap. */

import type { ConvGeometry } from './conv.js';

/** One sample: `padded` holds its padded input planes, `result` receives its output planes.
 * `weight` is already flipped when the call asks for it. */
export function convDirect(g: ConvGeometry, padded: Float32Array, weight: Float32Array, bias: Float32Array | undefined, result: Float32Array, resultOffset: number): void {
  const { inPerGroup, outPerGroup, taps, ph, pw, paddedPlane, outPlane } = g;
  const [od, oh, ow] = g.out;
  const [sd, sh, sw] = g.stride;
  const kw = g.kernel[2];
  const dw = g.dilation[2];
  // Kernel rows (kd, kh) start at every kw-th tap; along a row taps are dw apart.
  const rows = taps / kw;
  const rowOffset = g.tapOffset.filter((_, t) => t % kw === 0);
  // With unit stride and dilation along W, neighbouring taps of a row read neighbouring inputs:
  // the eight inputs slide by one per tap, one new load each.
  const sliding = sw === 1 && dw === 1;
  for (let co = 0; co < g.outChannels; co++) {
    const channelBase = Math.floor(co / outPerGroup) * inPerGroup * paddedPlane;
    const wBase = co * inPerGroup * taps;
    const b = bias ? bias[co] : 0;
    for (let z = 0; z < od; z++) {
      for (let y = 0; y < oh; y++) {
        const rowBase = channelBase + (z * sd * ph + y * sh) * pw;
        const dst = resultOffset + co * outPlane + (z * oh + y) * ow;
        let x = 0;
        for (; x + 8 <= ow; x += 8) {
          let acc0 = b, acc1 = b, acc2 = b, acc3 = b, acc4 = b, acc5 = b, acc6 = b, acc7 = b;
          for (let ci = 0; ci < inPerGroup; ci++) {
            const src = rowBase + ci * paddedPlane + x * sw;
            for (let r = 0; r < rows; r++) {
              let s = src + rowOffset[r];
              let w = wBase + (ci * rows + r) * kw;
              const wEnd = w + kw;
              if (sliding) {
                let v0 = padded[s], v1 = padded[s + 1], v2 = padded[s + 2], v3 = padded[s + 3];
                let v4 = padded[s + 4], v5 = padded[s + 5], v6 = padded[s + 6], v7 = padded[s + 7];
                for (;;) {
                  const wv = weight[w++];
                  acc0 += wv * v0; acc1 += wv * v1; acc2 += wv * v2; acc3 += wv * v3;
                  acc4 += wv * v4; acc5 += wv * v5; acc6 += wv * v6; acc7 += wv * v7;
                  if (w === wEnd) break;
                  v0 = v1; v1 = v2; v2 = v3; v3 = v4; v4 = v5; v5 = v6; v6 = v7;
                  v7 = padded[s + 8];
                  s++;
                }
              } else {
                for (; w < wEnd; w++, s += dw) {
                  const wv = weight[w];
                  acc0 += wv * padded[s];
                  acc1 += wv * padded[s + sw];
                  acc2 += wv * padded[s + 2 * sw];
                  acc3 += wv * padded[s + 3 * sw];
                  acc4 += wv * padded[s + 4 * sw];
                  acc5 += wv * padded[s + 5 * sw];
                  acc6 += wv * padded[s + 6 * sw];
                  acc7 += wv * padded[s + 7 * sw];
                }
              }
            }
          }
          result[dst + x] = acc0;
          result[dst + x + 1] = acc1;
          result[dst + x + 2] = acc2;
          result[dst + x + 3] = acc3;
          result[dst + x + 4] = acc4;
          result[dst + x + 5] = acc5;
          result[dst + x + 6] = acc6;
          result[dst + x + 7] = acc7;
        }
        for (; x < ow; x++) {
          let acc = b;
          for (let ci = 0; ci < inPerGroup; ci++) {
            const src = rowBase + ci * paddedPlane + x * sw;
            const w = wBase + ci * taps;
            for (let t = 0; t < taps; t++) acc += weight[w + t] * padded[src + g.tapOffset[t]];
          }
          result[dst + x] = acc;
        }
      }
    }
  }
}
