/** filter2d and the named filters. Every filter is one or more kernels of one size applied to each
 * channel. A call is validated into a `FilterCall` (the image and a plain-data `FilterPlan`); a
 * band of output rows is then computed as steps of convolution calls: the rows it reads become
 * bordered float planes, a rank-1 kernel runs as a column pass and a row pass, any other kernel (or
 * set of kernels, e.g. Sobel's x and y for the magnitude) as one convolution with 'valid' padding,
 * and the planes go back to bytes. The calling thread runs the whole image as one band; the pool
 * gives each worker a band of rows. */

import { sepFilterSteps, type Steps } from './composites.js';
import { normalizeConv } from './conv-options.js';
import {
  asImageData,
  borderedPlanes,
  borderRows,
  readFilterOptions,
  readImage,
  readKernel,
  toImage,
  type FilteredImage,
  type FilterOptions,
  type ImageLike,
  type Kernel,
  type KernelInput,
} from './image.js';
import { checkRadius, checkSigma, kernels, type KernelRows } from './kernels.js';
import { checkBytes } from './memory.js';
import { oneOf, type BackendName } from './options.js';
import { gatherRows, type PaddingMode } from './problem.js';
import type { Tensor } from './tensor.js';

/** Largest change, in grey levels, that running a kernel as two 1D passes may make to any output
 * value (before rounding): a kernel is treated as separable when `255 * Σ|K - column·row|` is
 * within it, so kernels that are rank-1 only up to float rounding still take the fast path. */
export const SEPARABLE_TOLERANCE = 1 / 1024;

/** The column and row factors of a rank-1 kernel (`K[i][j] ≈ column[i] * row[j]`), or undefined.
 * Factors come from the largest weight's column and row; a 1-row or 1-column kernel is already 1D. */
export function separableFactors(k: Kernel): [column: Float32Array, row: Float32Array] | undefined {
  const { data, width, height } = k;
  if (width === 1 || height === 1) return undefined;
  let pivot = 0;
  data.forEach((v, i) => Math.abs(v) > Math.abs(data[pivot]) && (pivot = i));
  const [r, c] = [Math.floor(pivot / width), pivot % width];
  const scale = data[pivot] === 0 ? 0 : 1 / data[pivot];
  const column = Float32Array.from({ length: height }, (_, i) => data[i * width + c]);
  const row = Float32Array.from({ length: width }, (_, j) => data[r * width + j] * scale);
  let residual = 0;
  for (let i = 0; i < height; i++) {
    for (let j = 0; j < width; j++) residual += Math.abs(data[i * width + j] - column[i] * row[j]);
  }
  return 255 * residual <= SEPARABLE_TOLERANCE ? [column, row] : undefined;
}

/** sqrt(gx² + gy²) of the two kernels' results `[channels, 2, pixels]`, per channel. */
function magnitude(out: Float32Array, channels: number, pixels: number): Float32Array {
  const result = new Float32Array(channels * pixels);
  for (let c = 0; c < channels; c++) {
    const gx = 2 * c * pixels;
    const gy = gx + pixels;
    for (let p = 0; p < pixels; p++) result[c * pixels + p] = Math.sqrt(out[gx + p] ** 2 + out[gy + p] ** 2);
  }
  return result;
}

/** A validated filter as plain data (workers receive it as is). */
export interface FilterPlan {
  op: string;
  /** Kernel size (every kernel of the filter has it). */
  width: number;
  height: number;
  /** A rank-1 kernel's column and row factors: the filter runs as two 1D passes. */
  factors?: [column: Float32Array, row: Float32Array];
  /** Otherwise the kernels, each applied to every filtered channel. */
  filters: Kernel[];
  /** Two kernels whose results combine as sqrt(a² + b²). */
  magnitude: boolean;
  border: PaddingMode;
  channels: number;
  flip: boolean;
  delta: number;
  backend: BackendName | undefined;
}

export interface FilterCall {
  image: ImageLike;
  plan: FilterPlan;
}

/** `filters` (one size), or a rank-1 kernel given by its factors (the named separable filters,
 * whose 2D kernel may be large), validated with the options into a call. */
function planFilter(
  op: string,
  image: unknown,
  filters: Kernel[] | [Float32Array, Float32Array],
  opts: unknown,
  magnitude = false,
  defaultDelta = 0,
  extraKeys: string[] = [],
): FilterCall {
  const given = filters[0] instanceof Float32Array ? (filters as [Float32Array, Float32Array]) : undefined;
  const planar = given ? [] : (filters as Kernel[]);
  const factors = given ?? (planar.length === 1 ? separableFactors(planar[0]) : undefined);
  const [height, width] = given ? [given[0].length, given[1].length] : [planar[0].height, planar[0].width];
  const options = readFilterOptions(op, opts, extraKeys, defaultDelta);
  return { image: readImage(op, image), plan: { op, width, height, factors, filters: factors ? [] : planar, magnitude, ...options } };
}

/** The anchor: the (rotated, with flip) kernel's centre `[floor(h/2), floor(w/2)]`. */
const anchor = (plan: FilterPlan) => [Math.floor(plan.height / 2), Math.floor(plan.width / 2)];

/** Filters a band: bordered row i reads `image` row `rows[i]` (-1: zeros); the result has a row
 * per kernel-high window, its unfiltered channels copied from `image` rows `firstRow` on. */
export function* filterBandSteps(image: ImageLike, plan: FilterPlan, rows: Int32Array, firstRow: number): Steps<FilteredImage> {
  const { width: kw, height: kh, factors } = plan;
  const left = anchor(plan)[1];
  const planes = borderedPlanes(image, plan.channels, rows, left, kw - 1 - left, plan.border);
  const conv = { flip: plan.flip, backend: plan.backend };
  let filtered: Tensor;
  if (factors) {
    filtered = yield* sepFilterSteps(planes, factors[0], factors[1], conv, plan.op);
  } else {
    const weight = { data: new Float32Array(plan.filters.length * kh * kw), shape: [plan.filters.length, 1, kh, kw] };
    plan.filters.forEach((f, i) => weight.data.set(f.data, i * kh * kw));
    filtered = (yield normalizeConv(plan.op, 2, planes, weight, conv)) as Tensor;
  }
  const height = rows.length - (kh - 1);
  const values = plan.magnitude ? magnitude(filtered.data, plan.channels, image.width * height) : filtered.data;
  return toImage(image, firstRow, values, plan.channels, plan.delta, height);
}

/** Checks a filter's working memory before anything is allocated: the bordered planes, the
 * convolution's output (and the pass between two), and the bytes out. */
export function checkFilterMemory({ image, plan }: FilterCall, max?: number): void {
  const { width: kw, height: kh } = plan;
  const planes = plan.channels * (image.height + kh - 1) * (image.width + kw - 1);
  const outputs = plan.channels * image.width * image.height;
  const bytes = 4 * (planes * 2 + outputs * (Math.max(plan.filters.length, 1) + 1)) + 8 * image.width * image.height;
  checkBytes(plan.op, bytes, `a ${image.width}x${image.height} image, a ${kw}x${kh} kernel`, max);
}

/** The whole image as one band. */
export function* filterSteps(call: FilterCall): Steps<FilteredImage> {
  checkFilterMemory(call);
  const { image, plan } = call;
  const rows = borderRows(image.height, [0, image.height], plan.height, anchor(plan)[0], plan.border);
  return asImageData(yield* filterBandSteps(image, plan, rows, 0));
}

/** What a worker needs for output rows `[r0, r1)`: the image rows they read, gathered through the
 * border (zero rows for a zero border), and where the band's own rows start. The band's rows map to
 * themselves: `filterBandSteps(band, plan, identityRows(band.height), firstRow)`. */
export function filterBand({ image, plan }: FilterCall, outputRows: [number, number]): { band: ImageLike; firstRow: number } {
  const top = anchor(plan)[0];
  const rows = borderRows(image.height, outputRows, plan.height, top, plan.border);
  const rowBytes = image.width * 4;
  const source = new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.length);
  const data = gatherRows(source, 1, image.height, rowBytes, rows, new Uint8ClampedArray(rows.length * rowBytes));
  return { band: { data, width: image.width, height: rows.length }, firstRow: top };
}

export const identityRows = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

const rows = (k: KernelRows): Kernel => readKernel('kernels', k);
/** The same 1D kernel down the columns and along the rows. */
const twice = (k: number[]): [Float32Array, Float32Array] => [Float32Array.from(k), Float32Array.from(k)];

export interface DirectionOptions<D extends string> extends FilterOptions {
  direction?: D;
}
export type GradientDirection = 'x' | 'y' | 'magnitude';
export type EmbossDirection = 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right';

/** Sobel or Prewitt: the x or y derivative, or the gradient magnitude (default). */
function gradientCall(op: string, image: unknown, opts: unknown, x: KernelRows, y: KernelRows): FilterCall {
  const direction = oneOf<GradientDirection>(op, 'direction', (opts as DirectionOptions<string> | undefined)?.direction, ['x', 'y', 'magnitude'], 'magnitude');
  const filters = direction === 'x' ? [rows(x)] : direction === 'y' ? [rows(y)] : [rows(x), rows(y)];
  return planFilter(op, image, filters, opts, direction === 'magnitude', 0, ['direction']);
}

const EMBOSS: Record<EmbossDirection, KernelRows> = {
  'top-left': kernels.embossTopLeft,
  'top-right': kernels.embossTopRight,
  'bottom-left': kernels.embossBottomLeft,
  'bottom-right': kernels.embossBottomRight,
};

/** Every image filter, validated into a call. */
export const imageCalls = {
  filter2d: (image: unknown, kernel: KernelInput, opts?: FilterOptions) => planFilter('filter2d', image, [readKernel('filter2d', kernel)], opts),
  boxBlur: (image: unknown, radius: number, opts?: FilterOptions) => planFilter('boxBlur', image, twice(kernels.box1d(checkRadius('boxBlur', radius))), opts),
  gaussianBlur: (image: unknown, sigma: number, opts?: FilterOptions) => planFilter('gaussianBlur', image, twice(kernels.gaussian1d(checkSigma('gaussianBlur', sigma))), opts),
  sharpen: (image: unknown, opts?: FilterOptions) => planFilter('sharpen', image, [rows(kernels.sharpen)], opts),
  laplacian: (image: unknown, opts?: FilterOptions) => planFilter('laplacian', image, [rows(kernels.laplacian)], opts),
  sobel: (image: unknown, opts?: DirectionOptions<GradientDirection>) => gradientCall('sobel', image, opts, kernels.sobelX, kernels.sobelY),
  prewitt: (image: unknown, opts?: DirectionOptions<GradientDirection>) => gradientCall('prewitt', image, opts, kernels.prewittX, kernels.prewittY),
  emboss: (image: unknown, opts?: DirectionOptions<EmbossDirection>) => {
    const direction = oneOf<EmbossDirection>('emboss', 'direction', (opts as DirectionOptions<string> | undefined)?.direction, Object.keys(EMBOSS) as EmbossDirection[], 'top-left');
    return planFilter('emboss', image, [rows(EMBOSS[direction])], opts, false, 128, ['direction']);
  },
};
