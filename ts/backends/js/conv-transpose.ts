/** Transposed convolution in TypeScript as GEMM + col2im (no zero insertion): per group, the
 * columns C[(co, tap), pixel] = W^T[(co, tap), ci] * X[ci, pixel] are computed for a block of input
 * pixels at a time, then each is added to the output position `in * stride - padding + tap *
 * dilation` its tap reaches. */

import type { ConvTransposeProblem } from '../../api/problem.js';
import { convTransposeDirect, transposeGeometry } from './conv-transpose-direct.js';
import { gemm, MR, packA } from './gemm.js';

/** Input pixels per GEMM + col2im block: bounds the column scratch to (Cout/groups * taps) x this. */
const PIXELS = 64;

/** GEMM's K is the input channels per group: below one microkernel's worth, scatter directly. */
export function convTransposeMethod(p: ConvTransposeProblem): 'gemm' | 'direct' {
  return p.inputShape[1] / p.groups >= MR ? 'gemm' : 'direct';
}

export function convTransposeJs(p: ConvTransposeProblem, input: Float32Array, weight: Float32Array, bias: Float32Array | undefined): Float32Array {
  if (convTransposeMethod(p) === 'direct') return convTransposeDirect(p, input, weight, bias);
  const { batch, inChannels, outChannels, ih, iw, kh, kw, od, oh, ow, sd, sh, sw, dd, dh, dw, pd, ph, pw, inPerGroup, outPerGroup, inPlane, outPlane, taps } =
    transposeGeometry(p);
  const m = outPerGroup * taps;
  // Where tap t lands relative to `in * stride`, per axis.
  const tapZ = new Int32Array(taps);
  const tapY = new Int32Array(taps);
  const tapX = new Int32Array(taps);
  for (let t = 0; t < taps; t++) {
    tapZ[t] = Math.floor(t / (kh * kw)) * dd - pd;
    tapY[t] = (Math.floor(t / kw) % kh) * dh - ph;
    tapX[t] = (t % kw) * dw - pw;
  }
  const rowOffset = Int32Array.from({ length: inPerGroup }, (_, ci) => ci * inPlane);
  const colOffset = new Int32Array(PIXELS);
  const col = new Float32Array(m * Math.min(PIXELS, inPlane));
  const out = new Float32Array(batch * outChannels * outPlane);
  for (let n = 0; n < batch; n++) {
    for (let co = 0; co < outChannels; co++) {
      const base = (n * outChannels + co) * outPlane;
      out.fill(bias ? bias[co] : 0, base, base + outPlane);
    }
  }
  for (let group = 0; group < p.groups; group++) {
    // W^T: row (co, tap) of the group's weight block is contiguous across co and tap, columns ci.
    const a = packA(weight, group * inPerGroup * m, 1, m, m, inPerGroup);
    for (let n = 0; n < batch; n++) {
      const src = (n * inChannels + group * inPerGroup) * inPlane;
      const dst = (n * outChannels + group * outPerGroup) * outPlane;
      for (let p0 = 0; p0 < inPlane; p0 += PIXELS) {
        const nb = Math.min(PIXELS, inPlane - p0);
        for (let j = 0; j < nb; j++) colOffset[j] = src + p0 + j;
        col.fill(0, 0, m * nb);
        gemm(m, nb, inPerGroup, a, input, rowOffset, colOffset, col, 0, nb);
        // col2im, one input row segment at a time.
        for (let r = 0; r < m; r++) {
          const t = r % taps;
          const plane = dst + Math.floor(r / taps) * outPlane;
          const offX = tapX[t];
          // Input columns whose target column is inside the output.
          const xLo = Math.max(0, Math.ceil(-offX / sw));
          const xHi = Math.min(iw, Math.floor((ow - 1 - offX) / sw) + 1);
          for (let q = p0; q < p0 + nb; ) {
            const row = Math.floor(q / iw);
            const x0 = q - row * iw;
            const x1 = Math.min(iw, x0 + p0 + nb - q);
            const tz = Math.floor(row / ih) * sd + tapZ[t];
            const ty = (row % ih) * sh + tapY[t];
            if (tz >= 0 && tz < od && ty >= 0 && ty < oh) {
              const target = plane + (tz * oh + ty) * ow + offX;
              const from = r * nb + (q - x0) - p0;
              for (let x = Math.max(x0, xLo); x < Math.min(x1, xHi); x++) out[target + x * sw] += col[from + x];
            }
            q += x1 - x0;
          }
        }
      }
    }
  }
  return out;
}
