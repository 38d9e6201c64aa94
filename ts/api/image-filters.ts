/** filter2d and the named filters as steps of convolution calls (so the calling thread and the pool
 * run them alike). Every filter is one or more kernels of one size applied to each channel: the
 * image becomes bordered float planes, a rank-1 kernel runs as a column pass and a row pass, any
 * other kernel (or set of kernels, e.g. Sobel's x and y for the magnitude) as one convolution with
 * 'valid' padding, and the planes go back to bytes. */

import type { Tensor } from './tensor.js';
import { sepFilterSteps, type Steps } from './composites.js';
import { normalizeConv } from './conv-options.js';
import { borderedPlanes, readFilterOptions, readImage, readKernel, toImage, type FilteredImage, type FilterOptions, type Kernel, type KernelInput } from './image.js';
import { checkRadius, checkSigma, kernels, type KernelRows } from './kernels.js';
import { oneOf } from './options.js';

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

type Combine = (out: Float32Array, planes: number, pixels: number) => Float32Array;

/** sqrt(gx² + gy²) of the two kernels' results, per channel. */
const magnitude: Combine = (out, planes, pixels) => {
  const result = new Float32Array(planes * pixels);
  for (let c = 0; c < planes; c++) {
    const gx = 2 * c * pixels;
    const gy = gx + pixels;
    for (let p = 0; p < pixels; p++) result[c * pixels + p] = Math.sqrt(out[gx + p] ** 2 + out[gy + p] ** 2);
  }
  return result;
};

/** The general filter: `filters` (all one size) on every filtered channel, combined per value when
 * there are several. */
function* filterSteps(op: string, image: unknown, filters: Kernel[], opts: unknown, combine?: Combine, defaultDelta = 0, extraKeys: string[] = []): Steps<FilteredImage> {
  const img = readImage(op, image);
  const o = readFilterOptions(op, opts, extraKeys, defaultDelta);
  const { width: kw, height: kh } = filters[0];
  // The anchor is the (rotated, with flip) kernel's centre (floor(h/2), floor(w/2)).
  const [top, left] = [Math.floor(kh / 2), Math.floor(kw / 2)];
  const planes = borderedPlanes(img, o.channels, [top, kh - 1 - top, left, kw - 1 - left], o.border);
  const factors = filters.length === 1 ? separableFactors(filters[0]) : undefined;
  let filtered: Tensor;
  if (factors) {
    filtered = yield* sepFilterSteps(planes, factors[0], factors[1], { flip: o.flip, backend: o.backend }, op);
  } else {
    const weight = { data: new Float32Array(filters.length * kh * kw), shape: [filters.length, 1, kh, kw] };
    filters.forEach((f, i) => weight.data.set(f.data, i * kh * kw));
    filtered = (yield normalizeConv(op, 2, planes, weight, { flip: o.flip, backend: o.backend })) as Tensor;
  }
  const pixels = img.width * img.height;
  return toImage(img, combine ? combine(filtered.data, o.channels, pixels) : filtered.data, o.channels, o.delta);
}

const rows = (k: KernelRows): Kernel => readKernel('kernels', k);

export interface DirectionOptions<D extends string> extends FilterOptions {
  direction?: D;
}
export type GradientDirection = 'x' | 'y' | 'magnitude';
export type EmbossDirection = 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right';

/** Sobel or Prewitt: the x or y derivative, or the gradient magnitude (default). */
function* gradientSteps(op: string, image: unknown, opts: unknown, x: KernelRows, y: KernelRows): Steps<FilteredImage> {
  const direction = oneOf<GradientDirection>(op, 'direction', (opts as DirectionOptions<string> | undefined)?.direction, ['x', 'y', 'magnitude'], 'magnitude');
  const filters = direction === 'x' ? [rows(x)] : direction === 'y' ? [rows(y)] : [rows(x), rows(y)];
  return yield* filterSteps(op, image, filters, opts, direction === 'magnitude' ? magnitude : undefined, 0, ['direction']);
}

const EMBOSS: Record<EmbossDirection, KernelRows> = {
  'top-left': kernels.embossTopLeft,
  'top-right': kernels.embossTopRight,
  'bottom-left': kernels.embossBottomLeft,
  'bottom-right': kernels.embossBottomRight,
};

export const imageSteps = {
  filter2d: (image: unknown, kernel: KernelInput, opts?: FilterOptions) => filterSteps('filter2d', image, [readKernel('filter2d', kernel)], opts),
  boxBlur: (image: unknown, radius: number, opts?: FilterOptions) => filterSteps('boxBlur', image, [rows(kernels.box(checkRadius('boxBlur', radius)))], opts),
  gaussianBlur: (image: unknown, sigma: number, opts?: FilterOptions) =>
    filterSteps('gaussianBlur', image, [rows(kernels.gaussian(checkSigma('gaussianBlur', sigma)))], opts),
  sharpen: (image: unknown, opts?: FilterOptions) => filterSteps('sharpen', image, [rows(kernels.sharpen)], opts),
  laplacian: (image: unknown, opts?: FilterOptions) => filterSteps('laplacian', image, [rows(kernels.laplacian)], opts),
  sobel: (image: unknown, opts?: DirectionOptions<GradientDirection>) => gradientSteps('sobel', image, opts, kernels.sobelX, kernels.sobelY),
  prewitt: (image: unknown, opts?: DirectionOptions<GradientDirection>) => gradientSteps('prewitt', image, opts, kernels.prewittX, kernels.prewittY),
  emboss: (image: unknown, opts?: DirectionOptions<EmbossDirection>) => {
    const direction = oneOf<EmbossDirection>('emboss', 'direction', (opts as DirectionOptions<string> | undefined)?.direction, Object.keys(EMBOSS) as EmbossDirection[], 'top-left');
    return filterSteps('emboss', image, [rows(EMBOSS[direction])], opts, undefined, 128, ['direction']);
  },
};

