/** The normalized form of a convolution call, shared by every backend and sent to workers as-is:
 * channels-first, batched, every option resolved to one number (or pair) per spatial axis. */

export const PADDING_MODES = ['zeros', 'reflect', 'symmetric', 'replicate', 'circular'] as const;
export type PaddingMode = (typeof PADDING_MODES)[number];

export const ALGORITHMS = ['auto', 'direct', 'im2col', 'winograd', 'fft'] as const;
export type Algorithm = (typeof ALGORITHMS)[number];

export interface ConvProblem {
  /** `[N, C, ...spatial]` */
  inputShape: number[];
  /** `[Cout, C / groups, ...kernel]` */
  weightShape: number[];
  /** `[N, Cout, ...out spatial]` */
  outputShape: number[];
  stride: number[];
  dilation: number[];
  padBefore: number[];
  padAfter: number[];
  paddingMode: PaddingMode;
  groups: number;
  flip: boolean;
  algorithm: Algorithm;
  hasBias: boolean;
}

/** Output length of one axis for a "valid" convolution over the padded input. */
export function convOutputLength(
  input: number,
  kernel: number,
  stride: number,
  dilation: number,
  padBefore: number,
  padAfter: number,
): number {
  return Math.floor((input + padBefore + padAfter - dilation * (kernel - 1) - 1) / stride) + 1;
}

/** Largest padding on one side `mode` accepts for an axis of `n` (PyTorch's limits). */
export function maxPadding(mode: PaddingMode, n: number): number {
  switch (mode) {
    case 'reflect':
      return n - 1;
    case 'symmetric':
    case 'circular':
      return n;
    default:
      return Infinity;
  }
}

/** The padding map: the source index of coordinate `i` of an axis of length `n` (any distance
 * outside it: reflections and wraps repeat), or -1 for a zero. */
export function sourceIndex(mode: PaddingMode, i: number, n: number): number {
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case 'zeros':
      return -1;
    case 'replicate':
      return i < 0 ? 0 : n - 1;
    case 'circular':
      return ((i % n) + n) % n;
    case 'reflect': {
      if (n === 1) return 0;
      const period = 2 * (n - 1);
      const j = ((i % period) + period) % period;
      return j < n ? j : period - j;
    }
    case 'symmetric': {
      const period = 2 * n;
      const j = ((i % period) + period) % period;
      return j < n ? j : period - 1 - j;
    }
  }
}

/** A band of rows read through the padding map: for each of `planes` planes of `rows` rows of
 * `rowSize` values, band row i is row `sources[i]` (-1: zeros; `band` may hold anything before). */
export function gatherRows<T extends Float32Array | Uint8ClampedArray>(data: T, planes: number, rows: number, rowSize: number, sources: Int32Array, band: T): T {
  // Runs of consecutive source rows (all but the border rows) are copied with one set() each:
  // per-row copies cost a call per element when rows are single values (1-D signals).
  for (let i = 0; i < sources.length; ) {
    const first = sources[i];
    let end = i + 1;
    while (end < sources.length && first >= 0 && sources[end] === first + (end - i)) end++;
    for (let plane = 0; plane < planes; plane++) {
      const to = (plane * sources.length + i) * rowSize;
      if (first < 0) band.fill(0, to, to + rowSize);
      else band.set(data.subarray((plane * rows + first) * rowSize, (plane * rows + first + end - i) * rowSize), to);
    }
    i = end;
  }
  return band;
}

export interface ConvTransposeProblem {
  /** `[N, Cin, ...spatial]` */
  inputShape: number[];
  /** `[Cin, Cout / groups, ...kernel]` */
  weightShape: number[];
  outputShape: number[];
  stride: number[];
  padding: number[];
  outputPadding: number[];
  dilation: number[];
  groups: number;
  hasBias: boolean;
}

export type PoolKind = 'max' | 'min' | 'avg';

export interface PoolProblem {
  kind: PoolKind;
  inputShape: number[];
  outputShape: number[];
  kernel: number[];
  stride: number[];
  padding: number[];
  dilation: number[];
  ceilMode: boolean;
  countIncludePad: boolean;
  divisorOverride: number | undefined;
  /** Max and min pooling: the forward also gives PyTorch's flat per-plane indices. */
  returnIndices: boolean;
}

/** PyTorch's pooling output length, including ceil mode's rule that the last window must start
 * inside the input or its left padding. */
export function poolOutputLength(input: number, kernel: number, stride: number, pad: number, dilation: number, ceilMode: boolean): number {
  const span = input + 2 * pad - dilation * (kernel - 1) - 1;
  let out = (ceilMode ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
  if (ceilMode && (out - 1) * stride >= input + pad) out--;
  return out;
}

/** Output length of a transposed convolution: `(I-1)*S - 2P + D*(K-1) + A + 1`. */
export function transposeOutputLength(input: number, kernel: number, stride: number, pad: number, dilation: number, outputPadding: number): number {
  return (input - 1) * stride - 2 * pad + dilation * (kernel - 1) + outputPadding + 1;
}

export interface DeformConvProblem {
  /** `[N, C, H, W]` */
  inputShape: number[];
  /** `[N, 2 * offsetGroups * kh * kw, Ho, Wo]`; the mask, when given, has half its channels. */
  offsetShape: number[];
  /** `[Cout, C / groups, kh, kw]` */
  weightShape: number[];
  outputShape: number[];
  stride: number[];
  padding: number[];
  dilation: number[];
  groups: number;
  hasMask: boolean;
  hasBias: boolean;
}
