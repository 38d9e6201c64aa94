/** How a call is cut into independent pieces for workers, and how pieces are cut out of the inputs
 * and put back into the results. A piece is a box over (batch, input channels, output channels,
 * output rows): batch ranges when the batch divides among the workers; otherwise a grouped
 * convolution splits whole groups and any other splits its output rows (the first spatial axis:
 * each piece reads its rows' input band, the rows outside the input filled through the padding
 * map), and pooling and its gradient split channels.
 * Every other op, and every gradient with parameters, splits by batch only; parameter gradients of
 * batch pieces are summed. A call with less work than its kind's calibrated threshold
 * (split-calibration.ts) stays whole. */

import { resultSpecs, type OpCall, type ResultName, type ResultSpec } from '../api/call.js';
import type { FilterCall } from '../api/image-filters.js';
import { gatherRows, sourceIndex, type ConvProblem } from '../api/problem.js';
import { product } from '../api/tensor.js';
import type { OpKind, ResultArrays } from '../backends/backend.js';
import { SPLIT_MIN_WORK } from './split-calibration.js';

export interface Piece {
  batch: [number, number];
  inChannels: [number, number];
  outChannels: [number, number];
  /** Convolution groups inside the piece. */
  groups: number;
  /** Output rows (first spatial axis) of a convolution piece; absent: all of them. */
  rows?: [number, number];
}

/** What a call's work is made of, for the split thresholds: a GEMM-like convolution does many
 * multiply-adds per byte it moves, a per-channel one (depthwise 3x3) few, pooling one comparison or
 * addition per window tap, and an image filter moves bytes instead of floats, so the same work
 * takes them very different times around the same copying. */
export type WorkKind = keyof typeof SPLIT_MIN_WORK;

/** The most window taps of a depthwise convolution that still moves as many bytes as it computes:
 * split, 3x3 lost to one worker at every size, 5x5 and larger won (1.1-1.3x, 64 channels at 112x112). */
const PER_CHANNEL_MAX_TAPS = 9;

export function workKind(call: OpCall): WorkKind {
  if (call.kind === 'pool' || call.kind === 'poolBackward') return 'pool';
  const p = call.problem;
  if (!('groups' in p)) return 'gemm';
  // Depthwise (with or without a depth multiplier): one input channel per group. A single-channel
  // convolution (groups 1) splits its rows like any other and wins from 3x3 up.
  const depthwise = p.groups > 1 && p.groups === p.inputShape[1];
  return depthwise && product(p.weightShape.slice(2)) <= PER_CHANNEL_MAX_TAPS ? 'perChannel' : 'gemm';
}

function ranges(total: number, parts: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < parts; i++) {
    const start = Math.floor((total * i) / parts);
    const end = Math.floor((total * (i + 1)) / parts);
    if (end > start) out.push([start, end]);
  }
  return out;
}

const span = (r: [number, number]) => r[1] - r[0];

/** Rough work of a call, to decide whether it is worth splitting: multiply-adds, or output elements
 * times the window for pooling (a gradient costs about twice its forward, which changes no decision). */
export function callWork(call: OpCall): number {
  const p = call.problem;
  switch (call.kind) {
    case 'convTranspose':
    case 'convTransposeBackward':
      return product(p.inputShape) * product(call.problem.weightShape.slice(1));
    case 'pool':
    case 'poolBackward':
      return product(p.outputShape) * product(call.problem.kernel);
    default:
      return product(p.outputShape) * product(call.problem.weightShape.slice(1));
  }
}

/** How a piece takes each backend array: a box of the input (batch x input channels) or of an
 * output-shaped array (batch x output channels), the batch range of a per-sample array, the
 * piece's output-channel rows of a weight or bias, or the whole array. */
type Role = 'input' | 'output' | 'sample' | 'rows' | 'whole';
const ARRAY_ROLES: Record<OpKind, Role[]> = {
  conv: ['input', 'rows', 'rows'],
  convTranspose: ['input', 'whole', 'whole'],
  pool: ['input'],
  deformConv: ['sample', 'sample', 'whole', 'sample', 'whole'],
  convBackward: ['sample', 'whole', 'sample'],
  convTransposeBackward: ['sample', 'whole', 'sample'],
  poolBackward: ['input', 'output'],
  deformConvBackward: ['sample', 'sample', 'whole', 'sample', 'sample'],
};

/** The pieces of a call for `parts` workers; a call with less work than `minWork` (by default the
 * calibrated threshold for its kind of work) stays whole, since its messaging would cost more than
 * the second worker saves. */
export function splitCall(call: OpCall, parts: number, minWork: number = SPLIT_MIN_WORK[workKind(call)]): Piece[] {
  const [batch, channels] = call.problem.inputShape;
  const outChannels = call.problem.outputShape[1];
  const groups = 'groups' in call.problem ? call.problem.groups : 1;
  const whole: Piece = { batch: [0, batch], inChannels: [0, channels], outChannels: [0, outChannels], groups };
  if (parts <= 1 || batch === 0 || callWork(call) < minWork) return [whole];
  const byBatch = () => ranges(batch, parts).map((b): Piece => ({ ...whole, batch: b }));
  if (call.kind === 'conv') {
    // A batch that does not divide evenly (3 image channels on 2 workers) leaves a worker idle
    // part of the time; rows divide finely, and with 8 or more per piece the input rows both
    // pieces read (the kernel's halo) stay a small share.
    if (batch % parts === 0 || batch >= 4 * parts) return byBatch();
    // Whole groups (depthwise) share nothing; output rows share only the kernel's halo of input
    // rows; output channels would each repeat the packing of the whole input, so they come last.
    const outRows = call.problem.outputShape[2];
    if (groups < parts && outRows >= 4 * parts) return ranges(outRows, parts).map((rows) => ({ ...whole, rows }));
    if (batch >= parts) return byBatch();
    if (groups === 1) return ranges(outChannels, parts).map((o) => ({ ...whole, outChannels: o }));
    const inPerGroup = channels / groups;
    const outPerGroup = outChannels / groups;
    return ranges(groups, parts).map(([g0, g1]) => ({
      ...whole,
      inChannels: [g0 * inPerGroup, g1 * inPerGroup],
      outChannels: [g0 * outPerGroup, g1 * outPerGroup],
      groups: g1 - g0,
    }));
  }
  const byChannels = call.kind === 'pool' || call.kind === 'poolBackward';
  if (batch >= parts || !byChannels) return byBatch();
  return ranges(channels, parts).map((c) => ({ ...whole, inChannels: c, outChannels: c }));
}

/** Makes a Float32Array of a length; its contents are overwritten (the pool recycles buffers). */
export type Allocate = (length: number) => Float32Array;

/** A copy of `data[from, to)` in a new array. */
const copyRange = (data: Float32Array, from: number, to: number, alloc: Allocate) => {
  const out = alloc(to - from);
  out.set(data.subarray(from, to));
  return out;
};

/** The input band a convolution's output rows `[r0, r1)` read, as `[N, C, band, ...]`: rows above
 * and below the input come through the padding map. */
function inputBand(data: Float32Array, p: ConvProblem, [r0, r1]: [number, number], alloc: Allocate): { band: Float32Array; length: number } {
  const [batch, channels, rows] = p.inputShape;
  const rowSize = product(p.inputShape.slice(3));
  const first = r0 * p.stride[0] - p.padBefore[0];
  const length = (r1 - 1 - r0) * p.stride[0] + p.dilation[0] * (p.weightShape[2] - 1) + 1;
  const sources = Int32Array.from({ length }, (_, i) => sourceIndex(p.paddingMode, first + i, rows));
  return { band: gatherRows(data, batch * channels, rows, rowSize, sources, alloc(batch * channels * length * rowSize)), length };
}

/** Output row bands of an image filter, one per worker when the image is worth splitting. */
export function imageRowPieces({ image, plan }: FilterCall, parts: number, minWork: number = SPLIT_MIN_WORK.image): [number, number][] {
  const taps = plan.factors ? plan.width + plan.height : plan.filters.length * plan.width * plan.height;
  const work = image.width * image.height * plan.channels * taps;
  return ranges(image.height, work < minWork ? 1 : Math.min(parts, image.height));
}

/** Copies the `[batch, channel]` box of a `[N, C, plane]` array into a new contiguous array. Copies,
 * not views: posting a view to a worker would clone its whole underlying buffer. */
function cutBox(data: Float32Array, shape: readonly number[], batch: [number, number], chans: [number, number], alloc: Allocate): Float32Array {
  const channels = shape[1];
  if (span(batch) === shape[0] && span(chans) === channels) return data;
  const plane = product(shape.slice(2));
  if (span(chans) === channels) return copyRange(data, batch[0] * channels * plane, batch[1] * channels * plane, alloc);
  const out = alloc(span(batch) * span(chans) * plane);
  for (let n = batch[0]; n < batch[1]; n++) {
    const src = (n * channels + chans[0]) * plane;
    out.set(data.subarray(src, src + span(chans) * plane), (n - batch[0]) * span(chans) * plane);
  }
  return out;
}

/** The problem and backend arrays of one piece: arrays cut from the call's (in arrays from `alloc`)
 * or the call's own. */
export function pieceArgs(call: OpCall, piece: Piece, alloc: Allocate): { problem: OpCall['problem']; arrays: (Float32Array | undefined)[] } {
  if (piece.rows && call.kind === 'conv') return rowPieceArgs(call.problem, call.arrays, piece.rows, alloc);
  const p = call.problem;
  const batch = p.inputShape[0];
  const [o0, o1] = piece.outChannels;
  const cut = (role: Role, a: Float32Array | undefined): Float32Array | undefined => {
    if (!a) return a;
    switch (role) {
      case 'input':
        return cutBox(a, p.inputShape, piece.batch, piece.inChannels, alloc);
      case 'output':
        return cutBox(a, p.outputShape, piece.batch, piece.outChannels, alloc);
      case 'sample':
        return cutBox(a, [batch, a.length / batch], piece.batch, [0, a.length / batch], alloc);
      case 'rows': {
        const rows = (p as ConvProblem).weightShape[0];
        return o1 - o0 === rows ? a : copyRange(a, (o0 * a.length) / rows, (o1 * a.length) / rows, alloc);
      }
      case 'whole':
        return a;
    }
  };
  const problem = {
    ...p,
    inputShape: [span(piece.batch), span(piece.inChannels), ...p.inputShape.slice(2)],
    outputShape: [span(piece.batch), span(piece.outChannels), ...p.outputShape.slice(2)],
    ...('offsetShape' in p && { offsetShape: [span(piece.batch), ...p.offsetShape.slice(1)] }),
    ...(call.kind === 'conv' && { weightShape: [o1 - o0, ...call.problem.weightShape.slice(1)], groups: piece.groups }),
  };
  return { problem, arrays: call.arrays.map((a, i) => cut(ARRAY_ROLES[call.kind][i], a)) };
}

/** A convolution's output rows: its input band, already bordered on the first axis, convolved
 * without padding on that axis (weight and bias whole). */
function rowPieceArgs(p: ConvProblem, [x, weight, bias]: (Float32Array | undefined)[], rows: [number, number], alloc: Allocate): { problem: ConvProblem; arrays: (Float32Array | undefined)[] } {
  const { band, length } = inputBand(x!, p, rows, alloc);
  const problem: ConvProblem = {
    ...p,
    inputShape: [p.inputShape[0], p.inputShape[1], length, ...p.inputShape.slice(3)],
    outputShape: [p.outputShape[0], p.outputShape[1], span(rows), ...p.outputShape.slice(3)],
    padBefore: [0, ...p.padBefore.slice(1)],
    padAfter: [0, ...p.padAfter.slice(1)],
  };
  return { problem, arrays: [band, weight, bias] };
}

/** Writes a piece's `[batch span, channel span, row span, ...]` result into the full `[N, C, R, ...]` one. */
function placePiece<T extends Float32Array | Int32Array>(
  shape: readonly number[],
  batch: [number, number],
  chans: [number, number],
  rows: [number, number],
  output: T,
  pieceOutput: T,
): void {
  const [channels, allRows] = [shape[1], shape[2] ?? 1];
  const rowSize = product(shape.slice(3));
  // With every row, a sample's channels are one contiguous block.
  const [block, blocks] = span(rows) === allRows ? [span(chans) * allRows * rowSize, 1] : [span(rows) * rowSize, span(chans)];
  let src = 0;
  for (let n = batch[0]; n < batch[1]; n++) {
    for (let c = chans[0]; c < chans[0] + blocks; c++, src += block) {
      output.set(pieceOutput.subarray(src, src + block), ((n * channels + c) * allRows + rows[0]) * rowSize);
    }
  }
}

/** Copies a piece's share of the tiled results (activations) into the call's result arrays `into`. */
export function placeResults(call: OpCall, piece: Piece, result: ResultArrays, into: ResultArrays): void {
  for (const [name, spec] of Object.entries(resultSpecs(call)) as [ResultName, ResultSpec][]) {
    if (spec.sum) continue;
    const chans = spec.channels === 'in' ? piece.inChannels : spec.channels === 'out' ? piece.outChannels : ([0, spec.shape[1]] as [number, number]);
    placePiece(spec.shape, piece.batch, chans, piece.rows ?? [0, spec.shape[2] ?? 1], into[name]!, result[name]!);
  }
}

/** Adds the pieces' parameter gradients into `into`: in float64, rounded once. */
export function sumResults(call: OpCall, results: ResultArrays[], into: ResultArrays): void {
  for (const [name, spec] of Object.entries(resultSpecs(call)) as [ResultName, ResultSpec][]) {
    if (!spec.sum) continue;
    const sum = new Float64Array(product(spec.shape));
    for (const r of results) r[name]!.forEach((v, k) => (sum[k] += v));
    into[name]!.set(sum);
  }
}
