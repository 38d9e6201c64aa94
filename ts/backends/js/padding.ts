import { sourceIndex, type PaddingMode } from '../../api/problem.js';

/** Pads `channels` planes of `size` (D, H, W) into a new array of the padded size. */
export function padImage(
  src: Float32Array,
  channels: number,
  size: readonly number[],
  before: readonly number[],
  after: readonly number[],
  mode: PaddingMode,
): Float32Array {
  const [d, h, w] = size;
  const pd = d + before[0] + after[0];
  const ph = h + before[1] + after[1];
  const pw = w + before[2] + after[2];
  const dst = new Float32Array(channels * pd * ph * pw);
  const cols = Int32Array.from({ length: pw }, (_, x) => sourceIndex(mode, x - before[2], w));
  const borders = [
    [0, before[2]],
    [before[2] + w, pw],
  ];
  for (let c = 0; c < channels; c++) {
    for (let z = 0; z < pd; z++) {
      const sz = sourceIndex(mode, z - before[0], d);
      if (sz < 0) continue;
      for (let y = 0; y < ph; y++) {
        const sy = sourceIndex(mode, y - before[1], h);
        if (sy < 0) continue;
        const srcRow = ((c * d + sz) * h + sy) * w;
        const dstRow = ((c * pd + z) * ph + y) * pw;
        // The interior is one contiguous copy; only the border columns go through the map.
        dst.set(src.subarray(srcRow, srcRow + w), dstRow + before[2]);
        for (const [from, to] of borders) {
          for (let x = from; x < to; x++) {
            const sx = cols[x];
            if (sx >= 0) dst[dstRow + x] = src[srcRow + sx];
          }
        }
      }
    }
  }
  return dst;
}

/** The adjoint of `padImage`: adds the gradient of every padded element to the source element it
 * was read from (elements that read zeros have none). `dst` holds `channels` planes of `size`. */
export function unpadAdd(
  gradPadded: Float32Array,
  channels: number,
  size: readonly number[],
  before: readonly number[],
  after: readonly number[],
  mode: PaddingMode,
  dst: Float32Array,
): void {
  const [d, h, w] = size;
  const padded = size.map((s, a) => s + before[a] + after[a]);
  const maps = padded.map((n, a) => Int32Array.from({ length: n }, (_, i) => sourceIndex(mode, i - before[a], size[a])));
  for (let c = 0; c < channels; c++) {
    for (let z = 0; z < padded[0]; z++) {
      const sz = maps[0][z];
      if (sz < 0) continue;
      for (let y = 0; y < padded[1]; y++) {
        const sy = maps[1][y];
        if (sy < 0) continue;
        const srcRow = ((c * padded[0] + z) * padded[1] + y) * padded[2];
        const dstRow = ((c * d + sz) * h + sy) * w;
        for (let x = 0; x < padded[2]; x++) {
          const sx = maps[2][x];
          if (sx >= 0) dst[dstRow + sx] += gradPadded[srcRow + x];
        }
      }
    }
  }
}
