// The JS backend's blocked GEMM against a naive triple loop, on ragged sizes that exercise edge
// tiles and the K and N blocks; and which method its planner picks.
import { expect, it } from 'vitest';
import type { ConvProblem, ConvTransposeProblem } from '../ts/api/problem.js';
import { convMethod } from '../ts/backends/js/conv.js';
import { convTransposeMethod } from '../ts/backends/js/conv-transpose.js';
import { gemm, packA } from '../ts/backends/js/gemm.js';
import { conv2dProblem, randomData } from './helpers.js';

/** C[m, n] += A[m, k] B[k, n] with A read transposed (A[i, kk] = aT[kk * m + i]) and B gathered from
 * `src` in column-major order (B[kk, j] = src[j * k + kk]), so both packers' index paths count. */
function check(m: number, n: number, k: number): void {
  const aT = randomData(k * m, m * 7 + n);
  const src = randomData(k * n, k * 3 + 1);
  const ldc = n + 3;
  const cOffset = 5;
  const c = randomData(cOffset + m * ldc, 11);
  const expected = Float64Array.from(c);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let kk = 0; kk < k; kk++) sum += aT[kk * m + i] * src[j * k + kk];
      expected[cOffset + i * ldc + j] += sum;
    }
  }
  const rowOffset = Int32Array.from({ length: k }, (_, kk) => kk);
  const colOffset = Int32Array.from({ length: n }, (_, j) => j * k);
  gemm(m, n, k, packA(aT, 0, 1, m, m, k), src, rowOffset, colOffset, c, cOffset, ldc);
  let worst = 0;
  for (let i = 0; i < c.length; i++) worst = Math.max(worst, Math.abs(c[i] - expected[i]) / (1 + Math.abs(expected[i])));
  expect(worst, `${m}x${n}x${k}`).toBeLessThan(1e-5);
}

it('matches a naive loop on ragged sizes', () => {
  for (const m of [1, 3, 4, 5, 9]) {
    for (const n of [1, 2, 4, 7, 13]) {
      for (const k of [1, 3, 8]) check(m, n, k);
    }
  }
});

it('matches a naive loop across K and N blocks', () => {
  check(6, 300, 257);
  check(17, 523, 600);
});

it('plans GEMM for wide groups and a direct loop for depthwise and single-channel filters', () => {
  const problem = (weightShape: number[], groups: number, algorithm?: ConvProblem['algorithm']) =>
    conv2dProblem([1, weightShape[1] * groups, 8, 8], weightShape, groups, algorithm);
  expect(convMethod(problem([64, 64, 3, 3], 1))).toBe('gemm');
  expect(convMethod(problem([144, 1, 3, 3], 144))).toBe('direct');
  expect(convMethod(problem([1, 1, 15, 15], 1))).toBe('direct');
  expect(convMethod(problem([64, 64, 3, 3], 1, 'direct'))).toBe('direct');
  expect(convMethod(problem([144, 1, 3, 3], 144, 'im2col'))).toBe('gemm');
});

it('plans transposed convolution as GEMM + col2im unless the groups have too few input channels', () => {
  const problem = (inChannels: number, groups: number): ConvTransposeProblem => ({
    inputShape: [1, inChannels, 8, 8],
    weightShape: [inChannels, 2, 4, 4],
    outputShape: [1, 2 * groups, 16, 16],
    stride: [2, 2],
    padding: [1, 1],
    outputPadding: [0, 0],
    dilation: [1, 1],
    groups,
    hasBias: false,
  });
  expect(convTransposeMethod(problem(64, 1))).toBe('gemm');
  expect(convTransposeMethod(problem(64, 64))).toBe('direct');
});
