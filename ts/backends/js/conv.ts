/** Convolution in plain TypeScript: pad once with the shared padding map, then accumulate each
 * kernel tap into whole output rows (the same loop structure as the Rust direct executor). */

import { unsupported } from '../../api/errors.js';
import type { ConvProblem } from '../../api/problem.js';
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
  const ph = size[1] + before[1] + after[1];
  const pw = size[2] + before[2] + after[2];
  const taps = kernel[0] * kernel[1] * kernel[2];
  const tapOffset = new Int32Array(taps);
  let t = 0;
  for (let kd = 0; kd < kernel[0]; kd++)
    for (let kh = 0; kh < kernel[1]; kh++)
      for (let kw = 0; kw < kernel[2]; kw++) tapOffset[t++] = (kd * dilation[0] * ph + kh * dilation[1]) * pw + kw * dilation[2];
  return {
    batch,
    channels,
    outChannels,
    inPerGroup,
    outPerGroup: outChannels / p.groups,
    size,
    out,
    stride: lift(p.stride, 1),
    before,
    after,
    ph,
    pw,
    paddedPlane: (size[0] + before[0] + after[0]) * ph * pw,
    inPlane: size[0] * size[1] * size[2],
    outPlane: out[0] * out[1] * out[2],
    taps,
    tapOffset,
  };
}

export function convJs(p: ConvProblem, input: Float32Array, weight: Float32Array, bias: Float32Array | undefined): Float32Array {
  // Asked for by name, an algorithm this backend lacks is an error, never a silent fallback.
  if (p.algorithm === 'winograd' || p.algorithm === 'fft') {
    throw unsupported(`algorithm '${p.algorithm}' is not available on the js backend; use the wasm backend or 'auto', 'direct' or 'im2col'`);
  }
  const g = convGeometry(p);
  const { channels, outChannels, inPerGroup, taps, ph, pw, paddedPlane, inPlane, outPlane } = g;
  // Flipping the kernel reverses the tap order.
  const tapOffset = p.flip ? g.tapOffset.slice().reverse() : g.tapOffset;
  const result = new Float32Array(g.batch * outChannels * outPlane);
  const [od, oh, ow] = g.out;
  const [sd, sh, sw] = g.stride;
  for (let n = 0; n < g.batch; n++) {
    const image = input.subarray(n * channels * inPlane, (n + 1) * channels * inPlane);
    const padded = padImage(image, channels, g.size, g.before, g.after, p.paddingMode);
    for (let co = 0; co < outChannels; co++) {
      const group = Math.floor(co / g.outPerGroup);
      const outBase = (n * outChannels + co) * outPlane;
      result.fill(bias ? bias[co] : 0, outBase, outBase + outPlane);
      for (let ci = 0; ci < inPerGroup; ci++) {
        const srcBase = (group * inPerGroup + ci) * paddedPlane;
        const wBase = (co * inPerGroup + ci) * taps;
        for (let k = 0; k < taps; k++) {
          const wv = weight[wBase + k];
          const tap = srcBase + tapOffset[k];
          for (let z = 0; z < od; z++) {
            for (let y = 0; y < oh; y++) {
              const src = tap + (z * sd * ph + y * sh) * pw;
              const dst = outBase + (z * oh + y) * ow;
              for (let x = 0; x < ow; x++) result[dst + x] += wv * padded[src + x * sw];
            }
          }
        }
      }
    }
  }
  return result;
}
