/** Pooling in TypeScript with PyTorch's semantics (see crates/convkit-core/src/pool.rs). */

import type { PoolProblem } from '../../api/problem.js';
import type { Gradients, PoolOutput } from '../backend.js';
import { lift } from './lift.js';

interface AxisWindow {
  taps: number[];
  /** The window length clipped to the padded input (average pooling's count_include_pad divisor). */
  span: number;
  /** The first tap at or after 0, possibly past the input: PyTorch's index for a window with no tap
   * inside the input. */
  first: number;
}

function axisWindows(size: number, out: number, kernel: number, stride: number, pad: number, dilation: number): AxisWindow[] {
  return Array.from({ length: out }, (_, o) => {
    const start = o * stride - pad;
    const taps: number[] = [];
    for (let k = 0; k < kernel; k++) {
      const i = start + k * dilation;
      if (i >= 0 && i < size) taps.push(i);
    }
    const first = start >= 0 ? start : start + Math.ceil(-start / dilation) * dilation;
    return { taps, span: Math.min(start + kernel, size + pad) - start, first };
  });
}

/** Per-axis windows of a pooling problem lifted to three spatial axes. */
function poolGeometry(p: PoolProblem) {
  const [batch, channels, ...spatial] = p.inputShape;
  const size = lift(spatial, 1);
  const out = lift(p.outputShape.slice(2), 1);
  const kernel = lift(p.kernel, 1);
  const stride = lift(p.stride, 1);
  const pad = lift(p.padding, 0);
  const dilation = lift(p.dilation, 1);
  return {
    size,
    out,
    windows: [0, 1, 2].map((a) => axisWindows(size[a], out[a], kernel[a], stride[a], pad[a], dilation[a])),
    inPlane: size[0] * size[1] * size[2],
    outPlane: out[0] * out[1] * out[2],
    planes: batch * channels,
  };
}

/** What average pooling divides a window's sum by. */
function avgDivisor(p: PoolProblem, wz: AxisWindow, wy: AxisWindow, wx: AxisWindow): number {
  return p.divisorOverride ?? (p.countIncludePad ? wz.span * wy.span * wx.span : wz.taps.length * wy.taps.length * wx.taps.length);
}

export function poolJs(p: PoolProblem, input: Float32Array): PoolOutput {
  return p.returnIndices ? poolPicking(p, input) : { output: poolSeparable(p, input) };
}

/** Max or min pooling that also says where each pick came from, window by window. */
function poolPicking(p: PoolProblem, input: Float32Array): Required<PoolOutput> {
  const { size, windows, inPlane, outPlane, planes } = poolGeometry(p);
  const output = new Float32Array(planes * outPlane);
  const indices = new Int32Array(planes * outPlane);
  const isMax = p.kind === 'max';
  for (let plane = 0; plane < planes; plane++) {
    const src = plane * inPlane;
    let o = plane * outPlane;
    for (const wz of windows[0])
      for (const wy of windows[1])
        for (const wx of windows[2]) {
          let best = isMax ? -Infinity : Infinity;
          let at = -1;
          for (const z of wz.taps)
            for (const y of wy.taps) {
              const row = (z * size[1] + y) * size[2];
              for (const x of wx.taps) {
                const v = input[src + row + x];
                // A NaN wins (the last one, as in PyTorch); an all -inf window reports its first tap.
                if ((isMax ? v > best : v < best) || v !== v || at < 0) {
                  best = v;
                  at = row + x;
                }
              }
            }
          output[o] = best;
          indices[o] = at >= 0 ? at : (wz.first * size[1] + wy.first) * size[2] + wx.first;
          o++;
        }
  }
  return { output, indices };
}

/** The value of a window with no tap inside the input. */
const EMPTY: Record<PoolProblem['kind'], number> = { max: -Infinity, min: Infinity, avg: 0 };

/** Pooling values (no indices), one axis at a time as in pool.rs: along x, then y, then z. */
function poolSeparable(p: PoolProblem, input: Float32Array): Float32Array {
  const { size, out, windows, inPlane, outPlane, planes } = poolGeometry(p);
  const output = new Float32Array(planes * outPlane);
  // Each pass reduces one axis of `[blocks, length, row]` data; the shape after x, y and z.
  const shapes = [
    [size[0] * size[1], size[2], 1, size[0] * size[1] * out[2]],
    [size[0], size[1], out[2], size[0] * out[1] * out[2]],
    [1, size[0], out[1] * out[2], outPlane],
  ];
  // An axis with a 1-wide window and stride 1 passes its data through unchanged: skipped.
  const axes = [2, 1, 0].filter((a) => lift(p.kernel, 1)[a] !== 1 || lift(p.stride, 1)[a] !== 1);
  const temps = shapes.map(([, , , length], i) => new Float32Array(axes.includes(2 - i) ? length : 0));
  for (let plane = 0; plane < planes; plane++) {
    let src = input.subarray(plane * inPlane, (plane + 1) * inPlane);
    for (const axis of axes) {
      const [blocks, length, row] = shapes[2 - axis];
      reduceAxis(p.kind, src, blocks, length, row, windows[axis], temps[2 - axis]);
      src = temps[2 - axis];
    }
    output.set(src, plane * outPlane);
  }
  if (p.kind === 'avg') divideByWindow(p, windows, output);
  return output;
}

/** Average pooling's divisions: each of `values` (output-shaped) over its window's divisor. */
function divideByWindow(p: PoolProblem, windows: AxisWindow[][], values: Float32Array): void {
  let o = 0;
  while (o < values.length) for (const wz of windows[0]) for (const wy of windows[1]) for (const wx of windows[2]) values[o++] /= avgDivisor(p, wz, wy, wx);
}

/** `dst[b][o][i]` = the max, min or sum of `src[b][t][i]` over window o's taps t. Math.max and
 * Math.min give NaN when either value is NaN, as PyTorch picks a NaN. */
function reduceAxis(kind: PoolProblem['kind'], src: Float32Array, blocks: number, length: number, row: number, windows: AxisWindow[], dst: Float32Array): void {
  for (let b = 0; b < blocks; b++) {
    const block = b * length * row;
    for (let o = 0; o < windows.length; o++) {
      const { taps } = windows[o];
      const at = (b * windows.length + o) * row;
      if (!taps.length) {
        dst.fill(EMPTY[kind], at, at + row);
        continue;
      }
      const first = block + taps[0] * row;
      for (let i = 0; i < row; i++) dst[at + i] = src[first + i];
      for (let t = 1; t < taps.length; t++) {
        const tap = block + taps[t] * row;
        if (kind === 'max') for (let i = 0; i < row; i++) dst[at + i] = Math.max(dst[at + i], src[tap + i]);
        else if (kind === 'min') for (let i = 0; i < row; i++) dst[at + i] = Math.min(dst[at + i], src[tap + i]);
        else for (let i = 0; i < row; i++) dst[at + i] += src[tap + i];
      }
    }
  }
}

/** Gradient with respect to the input: max/min route each output's gradient to the element they
 * picked; average spreads it over the window's taps, divided as in the forward. */
export function poolBackwardJs(p: PoolProblem, input: Float32Array, gradOutput: Float32Array): Gradients {
  const { size, out, windows, inPlane, outPlane, planes } = poolGeometry(p);
  const gradInput = new Float32Array(input.length);
  if (p.kind !== 'avg') {
    const { indices } = poolPicking(p, input);
    // A window with no tap inside the input picked nothing: its (PyTorch) index may even alias
    // another element, so such windows are skipped by their geometry.
    const empty = windows[0].flatMap((z) => windows[1].flatMap((y) => windows[2].map((x) => !z.taps.length || !y.taps.length || !x.taps.length)));
    for (let o = 0; o < gradOutput.length; o++) {
      if (!empty[o % outPlane]) gradInput[Math.floor(o / outPlane) * inPlane + indices[o]] += gradOutput[o];
    }
    return { gradInput };
  }
  // Average: each output's gradient over its window's divisor, then spread back over the window one
  // axis at a time (z, y, then x), in float32 and in pool.rs's order, so both add the same numbers.
  const [, oh, ow] = out;
  const shares = gradOutput.slice();
  divideByWindow(p, windows, shares);
  const afterZ = new Float32Array(size[0] * oh * ow);
  const afterY = new Float32Array(size[0] * size[1] * ow);
  for (let plane = 0; plane < planes; plane++) {
    afterZ.fill(0);
    spreadAxis(shares.subarray(plane * outPlane, (plane + 1) * outPlane), 1, size[0], oh * ow, windows[0], afterZ);
    afterY.fill(0);
    spreadAxis(afterZ, size[0], size[1], ow, windows[1], afterY);
    spreadAxis(afterY, size[0] * size[1], size[2], 1, windows[2], gradInput.subarray(plane * inPlane, (plane + 1) * inPlane));
  }
  return { gradInput };
}

/** `dst[b][t][i] += src[b][o][i]` for every tap t of window o, `dst` in `blocks` blocks of `length`
 * rows of `row` (the transpose of `reduceAxis`). */
function spreadAxis(src: Float32Array, blocks: number, length: number, row: number, windows: AxisWindow[], dst: Float32Array): void {
  for (let b = 0; b < blocks; b++) {
    for (let o = 0; o < windows.length; o++) {
      const from = (b * windows.length + o) * row;
      for (const t of windows[o].taps) {
        const to = (b * length + t) * row;
        for (let i = 0; i < row; i++) dst[to + i] += src[from + i];
      }
    }
  }
}
