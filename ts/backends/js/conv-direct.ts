/** Direct convolution for few output channels per group (depthwise, single-channel filters): no
 * packing to amortize, so each output row is computed in chunks of four pixels whose sums stay in
 * locals across every input channel and kernel tap. */

import type { ConvGeometry } from './conv.js';

/** One sample: `padded` holds its padded input planes, `result` receives its output planes. */
export function convDirect(g: ConvGeometry, tapOffset: Int32Array, padded: Float32Array, weight: Float32Array, bias: Float32Array | undefined, result: Float32Array, resultOffset: number): void {
  const { inPerGroup, outPerGroup, taps, ph, pw, paddedPlane, outPlane } = g;
  const [od, oh, ow] = g.out;
  const [sd, sh, sw] = g.stride;
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
            const w = wBase + ci * taps;
            for (let t = 0; t < taps; t++) {
              const wv = weight[w + t];
              const s = src + tapOffset[t];
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
            for (let t = 0; t < taps; t++) acc += weight[w + t] * padded[src + tapOffset[t]];
          }
          result[dst + x] = acc;
        }
      }
    }
  }
}
