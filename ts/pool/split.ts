/** How a call is cut into independent pieces for workers, and how pieces are cut out of the inputs
 * and put back into the output. A piece is a box over (batch, input channels, output channels):
 * batch ranges when the batch covers the workers, otherwise channel ranges where the op allows it
 * (convolution: whole groups, or output channels with one group; pooling: channels). */

import type { OpCall } from '../api/call.js';
import type { ConvProblem } from '../api/problem.js';
import { product } from '../api/tensor.js';

export interface Piece {
  batch: [number, number];
  inChannels: [number, number];
  outChannels: [number, number];
  /** Convolution groups inside the piece. */
  groups: number;
}

/** Below this many multiply-accumulates (or output elements for pooling) a call is not worth the messaging. */
export const MIN_WORK_TO_SPLIT = 1 << 20;

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

/** Rough work of a call, to decide whether it is worth splitting. */
export function callWork(call: OpCall): number {
  switch (call.kind) {
    case 'conv':
      return product(call.problem.outputShape) * product(call.problem.weightShape.slice(1));
    case 'convTranspose':
      return product(call.problem.inputShape) * product(call.problem.weightShape.slice(1));
    case 'pool':
      return product(call.problem.outputShape) * product(call.problem.kernel);
    case 'deformConv':
      return product(call.problem.outputShape) * product(call.problem.weightShape.slice(1));
  }
}

export function splitCall(call: OpCall, parts: number): Piece[] {
  const [batch, channels] = call.problem.inputShape;
  const outChannels = call.problem.outputShape[1];
  const groups = call.kind === 'pool' ? 1 : call.problem.groups;
  const whole: Piece = { batch: [0, batch], inChannels: [0, channels], outChannels: [0, outChannels], groups };
  if (parts <= 1 || batch === 0 || callWork(call) < MIN_WORK_TO_SPLIT) return [whole];
  if (batch >= parts || call.kind === 'convTranspose' || call.kind === 'deformConv') return ranges(batch, parts).map((b) => ({ ...whole, batch: b }));
  if (call.kind === 'pool') return ranges(channels, parts).map((c) => ({ ...whole, inChannels: c, outChannels: c }));
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

/** Copies the `[batch, channel]` box of a `[N, C, plane]` array into a new contiguous array. Copies,
 * not views: posting a view to a worker would clone its whole underlying buffer. */
function cutBox(data: Float32Array, shape: readonly number[], batch: [number, number], chans: [number, number]): Float32Array {
  const channels = shape[1];
  if (span(batch) === shape[0] && span(chans) === channels) return data;
  const plane = product(shape.slice(2));
  if (span(chans) === channels) return data.slice(batch[0] * channels * plane, batch[1] * channels * plane);
  const out = new Float32Array(span(batch) * span(chans) * plane);
  for (let n = batch[0]; n < batch[1]; n++) {
    const src = (n * channels + chans[0]) * plane;
    out.set(data.subarray(src, src + span(chans) * plane), (n - batch[0]) * span(chans) * plane);
  }
  return out;
}

/** The problem and backend arrays of one piece. */
export function pieceArgs(call: OpCall, piece: Piece): { problem: OpCall['problem']; arrays: (Float32Array | undefined)[] } {
  const p = call.problem;
  const shapes = {
    inputShape: [span(piece.batch), span(piece.inChannels), ...p.inputShape.slice(2)],
    outputShape: [span(piece.batch), span(piece.outChannels), ...p.outputShape.slice(2)],
  };
  const input = cutBox(call.arrays[0]!, p.inputShape, piece.batch, piece.inChannels);
  if (call.kind === 'deformConv') {
    // Offset and mask are per sample too (deformable calls split by batch only).
    const perSample = (a: Float32Array | undefined) => a && cutBox(a, [p.inputShape[0], a.length / p.inputShape[0]], piece.batch, [0, a.length / p.inputShape[0]]);
    const [, offset, weight, mask, bias] = call.arrays;
    return {
      problem: { ...p, ...shapes, offsetShape: [span(piece.batch), ...call.problem.offsetShape.slice(1)] },
      arrays: [input, perSample(offset), weight, perSample(mask), bias],
    };
  }
  if (call.kind !== 'conv') return { problem: { ...p, ...shapes }, arrays: [input, ...call.arrays.slice(1)] };
  // Convolution pieces may also take a slice of output channels: rows of the weight and bias.
  const [weight, bias] = [call.arrays[1]!, call.arrays[2]];
  const [o0, o1] = piece.outChannels;
  const whole = o1 - o0 === (p as ConvProblem).weightShape[0];
  const perOut = weight.length / (p as ConvProblem).weightShape[0];
  return {
    problem: { ...p, ...shapes, weightShape: [o1 - o0, ...(p as ConvProblem).weightShape.slice(1)], groups: piece.groups },
    arrays: [input, whole ? weight : weight.slice(o0 * perOut, o1 * perOut), whole ? bias : bias?.slice(o0, o1)],
  };
}

/** Writes a piece's `[batch span, out-channel span, plane]` result into the full `[N, C, plane]` one. */
export function placePiece<T extends Float32Array | Int32Array>(outputShape: readonly number[], piece: Piece, output: T, pieceOutput: T): void {
  const outChannels = outputShape[1];
  const plane = product(outputShape.slice(2));
  const rows = span(piece.outChannels) * plane;
  for (let n = piece.batch[0]; n < piece.batch[1]; n++) {
    const src = (n - piece.batch[0]) * rows;
    output.set(pieceOutput.subarray(src, src + rows), (n * outChannels + piece.outChannels[0]) * plane);
  }
}
