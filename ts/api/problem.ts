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
