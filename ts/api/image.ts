/** Images in and out of the convolution ops: reading and checking ImageData-like inputs, kernels
 * and filter options, turning an image into bordered float planes (one per filtered channel, as a
 * batch of single-channel images) and filtered planes back into 8-bit RGBA. */

import { invalid, mismatch } from './errors.js';
import type { KernelRows } from './kernels.js';
import { fmt, isPositiveInt, oneOf, optionalBoolean, optionsObject, readBackend, type BackendName } from './options.js';
import { PADDING_MODES, sourceIndex, type PaddingMode } from './problem.js';
import type { Tensor } from './tensor.js';

/** RGBA, 4 bytes per pixel, row-major (a browser `ImageData` is one). */
export interface ImageLike {
  data: Uint8ClampedArray | Uint8Array;
  width: number;
  height: number;
}

/** A filter's result: a browser `ImageData` where the global exists, otherwise a plain object. */
export interface FilteredImage {
  data: Uint8ClampedArray;
  width: number;
  height: number;
}

export interface Kernel {
  data: Float32Array;
  width: number;
  height: number;
}

export type KernelInput = Kernel | KernelRows;

export interface FilterOptions {
  /** How pixels outside the image are read. Default `'replicate'`. */
  border?: PaddingMode;
  /** `'rgb'` (default) filters red, green and blue and copies alpha; `'rgba'` filters all four. */
  channels?: 'rgb' | 'rgba';
  /** Rotate the kernel 180 degrees first (true convolution). Default false (cross-correlation). */
  flip?: boolean;
  /** Added to every filtered value before rounding. Default 0 (128 for `emboss`). */
  delta?: number;
  backend?: BackendName;
}

export interface ReadFilterOptions {
  border: PaddingMode;
  channels: number;
  flip: boolean;
  delta: number;
  backend: BackendName | undefined;
}

const FILTER_OPTION_KEYS = ['border', 'channels', 'flip', 'delta', 'backend'];

export function readImage(op: string, image: unknown): ImageLike {
  if (typeof image !== 'object' || image === null) throw invalid(`${op}: image must be an ImageData-like { data, width, height }, got ${fmt(image)}`);
  const { data, width, height } = image as Record<string, unknown>;
  if (!(data instanceof Uint8ClampedArray || data instanceof Uint8Array)) {
    throw invalid(`${op}: image.data must be a Uint8ClampedArray or Uint8Array (RGBA bytes), got ${data?.constructor?.name ?? fmt(data)}`);
  }
  if (!isPositiveInt(width) || !isPositiveInt(height)) {
    throw invalid(`${op}: image width and height must be positive integers, got ${fmt(width)} x ${fmt(height)}`);
  }
  if (data.length !== width * height * 4) {
    throw mismatch(`${op}: image.data has ${data.length} bytes but a ${width}x${height} RGBA image needs ${width * height * 4}`);
  }
  return { data, width, height };
}

/** A kernel as rows of numbers or `{ data: Float32Array, width, height }`, every weight finite. */
export function readKernel(op: string, kernel: unknown, name = 'kernel'): Kernel {
  let k: Kernel;
  if (Array.isArray(kernel)) {
    const width = Array.isArray(kernel[0]) ? kernel[0].length : 0;
    if (width === 0 || !kernel.every((row) => Array.isArray(row) && row.length === width && row.every((v) => typeof v === 'number'))) {
      throw invalid(`${op}: ${name} must be non-empty rows of numbers, all of one length, got ${fmt(kernel)}`);
    }
    k = { data: Float32Array.from((kernel as number[][]).flat()), width, height: kernel.length };
  } else {
    const { data, width, height } = (kernel ?? {}) as Record<string, unknown>;
    if (!(data instanceof Float32Array) || !isPositiveInt(width) || !isPositiveInt(height)) {
      throw invalid(`${op}: ${name} must be rows of numbers or { data: Float32Array, width, height }, got ${fmt(kernel)}`);
    }
    if (data.length !== width * height) throw mismatch(`${op}: ${name}.data has ${data.length} weights but ${width}x${height} needs ${width * height}`);
    k = { data, width, height };
  }
  const bad = k.data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    throw invalid(`${op}: ${name} weights must be finite numbers, got ${k.data[bad]} at row ${Math.floor(bad / k.width)}, column ${bad % k.width}`);
  }
  return k;
}

/** Reads the filter options; `extraKeys` (e.g. `direction`) are allowed and left to the named filter. */
export function readFilterOptions(op: string, opts: unknown, extraKeys: readonly string[] = [], defaultDelta = 0): ReadFilterOptions {
  const { border, channels, flip, delta, backend } = optionsObject(op, opts, new Set([...FILTER_OPTION_KEYS, ...extraKeys]));
  if (delta !== undefined && (typeof delta !== 'number' || !Number.isFinite(delta))) throw invalid(`${op}: delta must be a finite number, got ${fmt(delta)}`);
  return {
    border: oneOf(op, 'border', border, PADDING_MODES, 'replicate'),
    channels: oneOf(op, 'channels', channels, ['rgb', 'rgba'], 'rgb') === 'rgba' ? 4 : 3,
    flip: optionalBoolean(op, 'flip', flip),
    delta: delta ?? defaultDelta,
    backend: readBackend(op, backend),
  };
}

/** The vertical border of a filter: which image row each bordered row reads (-1: a zero row), for
 * output rows `[r0, r1)` of a kernel `kh` rows high anchored at `top`. */
export function borderRows(height: number, [r0, r1]: readonly [number, number], kh: number, top: number, border: PaddingMode): Int32Array {
  return Int32Array.from({ length: r1 - r0 + kh - 1 }, (_, i) => sourceIndex(border, r0 + i - top, height));
}

/** The first `channels` channels of `image` as a batch of single-channel float planes `[channels,
 * 1, rows.length, left + W + right]`: bordered row i is image row `rows[i]` (or zeros), and the
 * columns are bordered through the padding map, which reads any distance outside the image (a
 * kernel may be larger than the image). */
export function borderedPlanes(image: ImageLike, channels: number, rows: Int32Array, left: number, right: number, border: PaddingMode): Tensor {
  const { data, width } = image;
  const cols = width + left + right;
  const out = new Float32Array(channels * rows.length * cols);
  const columnSource = Int32Array.from({ length: cols }, (_, x) => sourceIndex(border, x - left, width));
  rows.forEach((sy, y) => {
    if (sy < 0) return;
    const srcRow = sy * width * 4;
    for (let c = 0; c < channels; c++) {
      const dst = (c * rows.length + y) * cols;
      for (let x = 0; x < cols; x++) {
        const sx = columnSource[x];
        if (sx >= 0) out[dst + x] = data[srcRow + sx * 4 + c];
      }
    }
  });
  return { data: out, shape: [channels, 1, rows.length, cols] };
}

/** Filtered planes (`channels` planes of `width` x `height`) back to RGBA bytes: `delta` is added,
 * then the value is clamped to 0..255 and rounded half to even (a Uint8ClampedArray store does
 * both). Channels that were not filtered (alpha for 'rgb') are copied from `source`, starting at
 * its row `firstRow`. */
export function toImage(source: ImageLike, firstRow: number, planes: Float32Array, channels: number, delta: number, height: number): FilteredImage {
  const { width } = source;
  const pixels = width * height;
  const out = new Uint8ClampedArray(pixels * 4);
  const copied = firstRow * width * 4;
  for (let c = 0; c < 4; c++) {
    if (c < channels) {
      const plane = c * pixels;
      for (let p = 0; p < pixels; p++) out[p * 4 + c] = planes[plane + p] + delta;
    } else {
      for (let p = 0; p < pixels; p++) out[p * 4 + c] = source.data[copied + p * 4 + c];
    }
  }
  return { data: out, width, height };
}

/** A browser `ImageData` where the global exists (ready for `putImageData`), else the plain object. */
export function asImageData(image: FilteredImage): FilteredImage {
  return typeof ImageData === 'function' ? new ImageData(image.data as Uint8ClampedArray<ArrayBuffer>, image.width, image.height) : image;
}
