/** Blocked GEMM over Float32Array: C[m, n] += A[m, k] * B[k, n]. A is packed once into row panels
 * of MR rows; B is never materialized: it is gathered block by block (KC x NC) into column panels
 * of NR columns straight from the caller's data through two offset tables, so im2col, transposed
 * convolution and weight gradients all feed the same loop without a full column matrix. One
 * register-tiled microkernel does the arithmetic; everything else is packing and loops. */

export const MR = 4;
export const NR = 4;
/** K and N block sizes: a packed B block (KC * NC floats, 256 KiB) stays in L2 while each of its
 * panels (KC * NR floats, 4 KiB) stays in L1 across every A panel. */
const KC = 256;
const NC = 256;

/** Packs `m` x `k` values `src[offset + r * rowStride + c * colStride]` into panels of MR rows,
 * each k-major (`panel[c * MR + r]`) and zero-filled past row `m`. Strides let callers pack a
 * transposed or sliced matrix without copying it first. */
export function packA(src: Float32Array, offset: number, rowStride: number, colStride: number, m: number, k: number): Float32Array {
  const packed = new Float32Array(Math.ceil(m / MR) * MR * k);
  for (let r0 = 0; r0 < m; r0 += MR) {
    const panel = r0 * k;
    const rows = Math.min(MR, m - r0);
    for (let r = 0; r < rows; r++) {
      const row = offset + (r0 + r) * rowStride;
      for (let c = 0; c < k; c++) packed[panel + c * MR + r] = src[row + c * colStride];
    }
  }
  return packed;
}

/** B[kk, j] = src[rowOffset[kk] + colOffset[j]] for kk in [k0, k0 + kc), j in [n0, n0 + nc), into
 * panels of NR columns (`dst[(panel * kc + kk) * NR + j]`), zero past column `nc`. */
function packB(src: Float32Array, rowOffset: Int32Array, k0: number, kc: number, colOffset: Int32Array, n0: number, nc: number, dst: Float32Array): void {
  let d = 0;
  for (let j0 = 0; j0 < nc; j0 += NR) {
    const cols = nc - j0;
    if (cols >= NR) {
      const o0 = colOffset[n0 + j0];
      const o1 = colOffset[n0 + j0 + 1];
      const o2 = colOffset[n0 + j0 + 2];
      const o3 = colOffset[n0 + j0 + 3];
      for (let kk = k0; kk < k0 + kc; kk++) {
        const base = rowOffset[kk];
        dst[d] = src[base + o0];
        dst[d + 1] = src[base + o1];
        dst[d + 2] = src[base + o2];
        dst[d + 3] = src[base + o3];
        d += NR;
      }
    } else {
      for (let kk = k0; kk < k0 + kc; kk++) {
        const base = rowOffset[kk];
        for (let j = 0; j < NR; j++) dst[d + j] = j < cols ? src[base + colOffset[n0 + j0 + j]] : 0;
        d += NR;
      }
    }
  }
}

/** C[4, 4] += A panel (kc x 4) * B panel (kc x 4): sixteen accumulators in locals, which V8 keeps
 * in registers (wider tiles spill and run slower). */
function microkernel_4x4(a: Float32Array, ai: number, b: Float32Array, bi: number, kc: number, c: Float32Array, ci: number, ldc: number): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
  let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
  let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  for (let kk = 0; kk < kc; kk++) {
    const a0 = a[ai], a1 = a[ai + 1], a2 = a[ai + 2], a3 = a[ai + 3];
    const b0 = b[bi], b1 = b[bi + 1], b2 = b[bi + 2], b3 = b[bi + 3];
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
    ai += MR;
    bi += NR;
  }
  c[ci] += c00; c[ci + 1] += c01; c[ci + 2] += c02; c[ci + 3] += c03;
  ci += ldc;
  c[ci] += c10; c[ci + 1] += c11; c[ci + 2] += c12; c[ci + 3] += c13;
  ci += ldc;
  c[ci] += c20; c[ci + 1] += c21; c[ci + 2] += c22; c[ci + 3] += c23;
  ci += ldc;
  c[ci] += c30; c[ci + 1] += c31; c[ci + 2] += c32; c[ci + 3] += c33;
}

/** C[m, n] (row stride `ldc`, from `c[cOffset]`) += packed A (from `packA`, m x k) times B given
 * by `src`, `rowOffset` (k entries) and `colOffset` (n entries) as in `packB`. */
export function gemm(
  m: number,
  n: number,
  k: number,
  aPacked: Float32Array,
  src: Float32Array,
  rowOffset: Int32Array,
  colOffset: Int32Array,
  c: Float32Array,
  cOffset: number,
  ldc: number,
): void {
  const bPacked = new Float32Array(Math.min(KC, k) * Math.ceil(Math.min(NC, n) / NR) * NR);
  // Edge tiles (past row m or column n) are computed here, then only their valid part is added.
  const edge = new Float32Array(MR * NR);
  for (let n0 = 0; n0 < n; n0 += NC) {
    const nc = Math.min(NC, n - n0);
    for (let k0 = 0; k0 < k; k0 += KC) {
      const kc = Math.min(KC, k - k0);
      packB(src, rowOffset, k0, kc, colOffset, n0, nc, bPacked);
      for (let j0 = 0; j0 < nc; j0 += NR) {
        const bi = j0 * kc;
        const cols = Math.min(NR, nc - j0);
        for (let i0 = 0; i0 < m; i0 += MR) {
          const ai = i0 * k + k0 * MR;
          const rows = Math.min(MR, m - i0);
          const ci = cOffset + i0 * ldc + n0 + j0;
          if (rows === MR && cols === NR) {
            microkernel_4x4(aPacked, ai, bPacked, bi, kc, c, ci, ldc);
          } else {
            edge.fill(0);
            microkernel_4x4(aPacked, ai, bPacked, bi, kc, edge, 0, NR);
            for (let r = 0; r < rows; r++) {
              for (let j = 0; j < cols; j++) c[ci + r * ldc + j] += edge[r * NR + j];
            }
          }
        }
      }
    }
  }
}
