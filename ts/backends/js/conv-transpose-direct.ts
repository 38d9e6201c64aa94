/** Transposed convolution for narrow groups (few input channels per group, where GEMM's K is too
 * short to pay for packing, e.g. a depthwise layer's input gradient): every input element scatters
 * `x * w` to the output positions `in * stride - padding + tap * dilation` its kernel taps reach. */

import type { ConvTransposeProblem } from '../../api/problem.js';
import { lift } from './lift.js';

/** A transposed convolution's sizes lifted to three spatial axes (shared by both JS executors). */
export function transposeGeometry(p: ConvTransposeProblem) {
  const [batch, inChannels, ...spatial] = p.inputShape;
  const outChannels = p.outputShape[1];
  const [id, ih, iw] = lift(spatial, 1);
  const [kd, kh, kw] = lift(p.weightShape.slice(2), 1);
  const [od, oh, ow] = lift(p.outputShape.slice(2), 1);
  const [sd, sh, sw] = lift(p.stride, 1);
  const [dd, dh, dw] = lift(p.dilation, 1);
  const [pd, ph, pw] = lift(p.padding, 0);
  return {
    batch, inChannels, outChannels, id, ih, iw, kd, kh, kw, od, oh, ow, sd, sh, sw, dd, dh, dw, pd, ph, pw,
    inPerGroup: inChannels / p.groups,
    outPerGroup: outChannels / p.groups,
    inPlane: id * ih * iw,
    outPlane: od * oh * ow,
    taps: kd * kh * kw,
  };
}

export function convTransposeDirect(p: ConvTransposeProblem, input: Float32Array, weight: Float32Array, bias: Float32Array | undefined): Float32Array {
  const { batch, inChannels, outChannels, id, ih, iw, kd, kh, kw, od, oh, ow, sd, sh, sw, dd, dh, dw, pd, ph, pw, inPerGroup, outPerGroup, inPlane, outPlane, taps } =
    transposeGeometry(p);
  const out = new Float32Array(batch * outChannels * outPlane);
  for (let n = 0; n < batch; n++) {
    for (let co = 0; co < outChannels; co++) {
      const base = (n * outChannels + co) * outPlane;
      out.fill(bias ? bias[co] : 0, base, base + outPlane);
    }
    for (let ci = 0; ci < inChannels; ci++) {
      const group = Math.floor(ci / inPerGroup);
      const src = (n * inChannels + ci) * inPlane;
      for (let col = 0; col < outPerGroup; col++) {
        const co = group * outPerGroup + col;
        const dst = (n * outChannels + co) * outPlane;
        const wBase = (ci * outPerGroup + col) * taps;
        for (let a = 0; a < kd; a++)
          for (let b = 0; b < kh; b++)
            for (let c = 0; c < kw; c++) {
              const wv = weight[wBase + (a * kh + b) * kw + c];
              for (let z = 0; z < id; z++) {
                const tz = z * sd + a * dd - pd;
                if (tz < 0 || tz >= od) continue;
                for (let y = 0; y < ih; y++) {
                  const ty = y * sh + b * dh - ph;
                  if (ty < 0 || ty >= oh) continue;
                  const srcRow = src + (z * ih + y) * iw;
                  const dstRow = dst + (tz * oh + ty) * ow;
                  for (let x = 0; x < iw; x++) {
                    const tx = x * sw + c * dw - pw;
                    if (tx >= 0 && tx < ow) out[dstRow + tx] += wv * input[srcRow + x];
                  }
                }
              }
            }
      }
    }
  }
  return out;
}
