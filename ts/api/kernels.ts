/** The classic image kernels as plain data (rows of numbers, cross-correlation weights: what
 * `filter2d` applies without `flip`). Constant kernels are frozen so no caller can change what the
 * named filters use. */

import { invalid } from './errors.js';
import { fmt, isNonNegativeInt } from './options.js';

export type KernelRows = readonly (readonly number[])[];

const freeze = (rows: number[][]): KernelRows => Object.freeze(rows.map((r) => Object.freeze(r)));

/** Round half to even, as OpenCV's cvRound does. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** OpenCV's Gaussian kernel length for 8-bit images: `cvRound(sigma * 3 * 2 + 1) | 1`. */
export function gaussianLength(sigma: number): number {
  return roundHalfEven(sigma * 6 + 1) | 1;
}

export function checkSigma(op: string, sigma: unknown): number {
  if (typeof sigma !== 'number' || !Number.isFinite(sigma) || sigma <= 0 || gaussianLength(sigma) > 8191) {
    throw invalid(`${op}: sigma must be a positive number of at most 1365, got ${fmt(sigma)}`);
  }
  return sigma;
}

export function checkRadius(op: string, radius: unknown): number {
  if (!isNonNegativeInt(radius) || radius > 4095) throw invalid(`${op}: radius must be an integer from 0 to 4095, got ${fmt(radius)}`);
  return radius;
}

/** OpenCV's `getGaussianKernel(gaussianLength(sigma), sigma)`: samples of exp(-x²/2σ²) at integer
 * offsets from the centre, normalized to sum 1 (computed in float64). */
export function gaussian1d(sigma: number): number[] {
  checkSigma('kernels.gaussian1d', sigma);
  const n = gaussianLength(sigma);
  const scale = -0.5 / (sigma * sigma);
  const taps = Array.from({ length: n }, (_, i) => Math.exp(scale * (i - (n - 1) / 2) ** 2));
  const sum = taps.reduce((a, b) => a + b, 0);
  return taps.map((t) => t / sum);
}

export function box1d(radius: number): number[] {
  checkRadius('kernels.box1d', radius);
  return Array(2 * radius + 1).fill(1 / (2 * radius + 1));
}

const outer = (column: readonly number[], row: readonly number[]): number[][] => column.map((c) => row.map((r) => c * r));

const sobelX = freeze(outer([1, 2, 1], [-1, 0, 1]));
const prewittX = freeze(outer([1, 1, 1], [-1, 0, 1]));
const transpose = (k: KernelRows): KernelRows => freeze(k[0].map((_, j) => k.map((row) => row[j])));

/** Emboss masks, the four diagonal directional differences: -1 on the corner the light comes from,
 * +1 on the opposite one, so edges facing the light come out bright and the far edges dark. The
 * weights sum to 0, so `emboss` adds 128 (mid grey) by default. */
const embossTopLeft = freeze([
  [-1, 0, 0],
  [0, 0, 0],
  [0, 0, 1],
]);
const mirrorRows = (k: KernelRows): KernelRows => freeze(k.map((row) => [...row].reverse()));
const mirrorColumns = (k: KernelRows): KernelRows => freeze([...k].reverse().map((row) => [...row]));

export const kernels = Object.freeze({
  identity: freeze([
    [0, 0, 0],
    [0, 1, 0],
    [0, 0, 0],
  ]),
  sharpen: freeze([
    [0, -1, 0],
    [-1, 5, -1],
    [0, -1, 0],
  ]),
  /** Second derivative, 4-neighbour (OpenCV `Laplacian` with ksize 1, scipy `laplace`). */
  laplacian: freeze([
    [0, 1, 0],
    [1, -4, 1],
    [0, 1, 0],
  ]),
  /** d/dx (positive where the image gets brighter to the right), smoothed [1, 2, 1] down the columns. */
  sobelX,
  sobelY: transpose(sobelX),
  prewittX,
  prewittY: transpose(prewittX),
  embossTopLeft,
  embossTopRight: mirrorRows(embossTopLeft),
  embossBottomLeft: mirrorColumns(embossTopLeft),
  embossBottomRight: mirrorRows(mirrorColumns(embossTopLeft)),
  /** The (2r+1)² mean filter. */
  box: (radius: number): number[][] => outer(box1d(radius), box1d(radius)),
  box1d,
  /** OpenCV's Gaussian for 8-bit images: length `round(6σ + 1) | 1`, as `gaussian1d(σ)ᵀ · gaussian1d(σ)`. */
  gaussian: (sigma: number): number[][] => outer(gaussian1d(sigma), gaussian1d(sigma)),
  gaussian1d,
});
