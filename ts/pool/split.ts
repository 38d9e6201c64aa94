/** How a convolution is cut into independent pieces for workers, and how the pieces are cut out of
 * the inputs and put back into the output. A piece is a box over (batch, input channels, output
 * channels): batch ranges when the batch is large enough, otherwise whole groups (or output channels
 * when there is one group). */

import type { ConvProblem } from '../api/problem.js';

export interface ConvPiece {
  batch: [number, number];
  inChannels: [number, number];
  outChannels: [number, number];
  groups: number;
}

/** Below this many multiply-accumulates a call is not worth the messaging. */
export const MIN_MACS_TO_SPLIT = 1 << 20;

function ranges(total: number, parts: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < parts; i++) {
    const start = Math.floor((total * i) / parts);
    const end = Math.floor((total * (i + 1)) / parts);
    if (end > start) out.push([start, end]);
  }
  return out;
}

export function convMacs(p: ConvProblem): number {
  const [, inPerGroup, ...kernel] = p.weightShape;
  return p.outputShape.reduce((a, b) => a * b, 1) * inPerGroup * kernel.reduce((a, b) => a * b, 1);
}

export function splitConv(p: ConvProblem, parts: number): ConvPiece[] {
  const [batch, channels] = p.inputShape;
  const outChannels = p.weightShape[0];
  const whole: ConvPiece = { batch: [0, batch], inChannels: [0, channels], outChannels: [0, outChannels], groups: p.groups };
  if (parts <= 1 || batch === 0 || convMacs(p) < MIN_MACS_TO_SPLIT) return [whole];
  if (batch >= parts) return ranges(batch, parts).map((b) => ({ ...whole, batch: b }));
  if (p.groups === 1) return ranges(outChannels, parts).map((o) => ({ ...whole, outChannels: o }));
  const inPerGroup = channels / p.groups;
  const outPerGroup = outChannels / p.groups;
  return ranges(p.groups, parts).map(([g0, g1]) => ({
    ...whole,
    inChannels: [g0 * inPerGroup, g1 * inPerGroup],
    outChannels: [g0 * outPerGroup, g1 * outPerGroup],
    groups: g1 - g0,
  }));
}

const span = (r: [number, number]) => r[1] - r[0];

export function pieceProblem(p: ConvProblem, piece: ConvPiece): ConvProblem {
  return {
    ...p,
    inputShape: [span(piece.batch), span(piece.inChannels), ...p.inputShape.slice(2)],
    weightShape: [span(piece.outChannels), ...p.weightShape.slice(1)],
    outputShape: [span(piece.batch), span(piece.outChannels), ...p.outputShape.slice(2)],
    groups: piece.groups,
  };
}

/** Copies the `[batch, channel]` box of a `[N, C, plane]` array into a new contiguous array. Copies,
 * not views: posting a view to a worker would clone its whole underlying buffer. */
function cutBox(data: Float32Array, shape: readonly number[], batch: [number, number], chans: [number, number]): Float32Array {
  const channels = shape[1];
  if (span(batch) === shape[0] && span(chans) === channels) return data;
  const plane = shape.slice(2).reduce((a, b) => a * b, 1);
  if (span(chans) === channels) return data.slice(batch[0] * channels * plane, batch[1] * channels * plane);
  const out = new Float32Array(span(batch) * span(chans) * plane);
  for (let n = batch[0]; n < batch[1]; n++) {
    const src = (n * channels + chans[0]) * plane;
    out.set(data.subarray(src, src + span(chans) * plane), (n - batch[0]) * span(chans) * plane);
  }
  return out;
}

export function pieceInputs(
  p: ConvProblem,
  piece: ConvPiece,
  input: Float32Array,
  weight: Float32Array,
  bias: Float32Array | undefined,
): { input: Float32Array; weight: Float32Array; bias: Float32Array | undefined } {
  const perOut = weight.length / p.weightShape[0];
  const [o0, o1] = piece.outChannels;
  return {
    input: cutBox(input, p.inputShape, piece.batch, piece.inChannels),
    weight: o1 - o0 === p.weightShape[0] ? weight : weight.slice(o0 * perOut, o1 * perOut),
    bias: bias?.slice(o0, o1),
  };
}

/** Writes a piece's output `[batch span, out-channel span, plane]` into the full output. */
export function placePieceOutput(p: ConvProblem, piece: ConvPiece, output: Float32Array, pieceOutput: Float32Array): void {
  const outChannels = p.outputShape[1];
  const plane = p.outputShape.slice(2).reduce((a, b) => a * b, 1);
  const rows = span(piece.outChannels) * plane;
  for (let n = piece.batch[0]; n < piece.batch[1]; n++) {
    const src = (n - piece.batch[0]) * rows;
    output.set(pieceOutput.subarray(src, src + rows), (n * outChannels + piece.outChannels[0]) * plane);
  }
}
