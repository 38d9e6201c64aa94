// Gradients against central finite differences of the JS backend's forward, with the loss
// <forward(...), gradOutput> accumulated in float64. Each case keeps the function smooth around the
// point: convolutions are linear (any step is exact), pooling inputs are spaced wider than the step
// (no argmax flips), deformable offsets stay away from integer sample positions (bilinear is linear
// within a cell).
import { beforeAll, describe, expect, it } from 'vitest';
import type { Tensor } from '../ts/index.js';
import { loadConvkit, randomData, tensor, type Convkit, type Kind } from './helpers.js';

type Grads = Record<string, Tensor | Float32Array>;
interface Case {
  name: string;
  /** The differentiable arguments by name; everything else is fixed in `forward`/`backward`. */
  args: Record<string, Tensor>;
  forward(ck: Convkit, a: Record<string, Tensor>): Tensor;
  backward(ck: Convkit, a: Record<string, Tensor>, gradOutput: Tensor): Grads;
  /** Gradient name -> argument name. */
  wrt: Record<string, string>;
  step: number;
}

/** Distinct values 0.05 apart in a shuffled order: a step of 0.01 never changes which is largest. */
function spaced(shape: number[], seed: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const order = Array.from(randomData(n, seed)).map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const data = new Float32Array(n);
  order.forEach(([, i], rank) => (data[i] = (rank - n / 2) * 0.05));
  return { data, shape };
}

/** Offsets whose fractional parts lie in [0.2, 0.8]. */
function offsets(shape: number[], seed: number): Tensor {
  const t = tensor(shape, seed);
  t.data = t.data.map((v, i) => Math.round(v * 2) + 0.2 + 0.6 * ((i * 7) % 11) / 10);
  return t;
}

const cases: Case[] = [
  {
    name: 'conv2d reflect, stride 2, groups 2, flip, bias',
    args: { x: tensor([2, 4, 7, 6], 1), weight: tensor([6, 2, 3, 2], 2), bias: tensor([6], 3) },
    forward: (ck, a) => ck.conv2d(a.x, a.weight, { bias: a.bias, stride: 2, padding: [[1, 2], [0, 1]], paddingMode: 'reflect', groups: 2, flip: true }),
    backward: (ck, a, dy) => ck.conv2dBackward(a.x, a.weight, dy, { bias: a.bias, stride: 2, padding: [[1, 2], [0, 1]], paddingMode: 'reflect', groups: 2, flip: true }) as unknown as Grads,
    wrt: { gradInput: 'x', gradWeight: 'weight', gradBias: 'bias' },
    step: 0.25,
  },
  {
    name: 'conv1d causal dilation 2, channels-last',
    args: { x: tensor([2, 9, 3], 4), weight: tensor([2, 3, 3], 5) },
    forward: (ck, a) => ck.conv1d(a.x, a.weight, { padding: 'causal', dilation: 2, layout: 'channels-last' }),
    backward: (ck, a, dy) => ck.conv1dBackward(a.x, a.weight, dy, { padding: 'causal', dilation: 2, layout: 'channels-last' }) as unknown as Grads,
    wrt: { gradInput: 'x', gradWeight: 'weight' },
    step: 0.25,
  },
  {
    name: 'conv3d symmetric same',
    args: { x: tensor([1, 2, 3, 4, 4], 6), weight: tensor([2, 2, 2, 3, 2], 7) },
    forward: (ck, a) => ck.conv3d(a.x, a.weight, { padding: 'same', paddingMode: 'symmetric' }),
    backward: (ck, a, dy) => ck.conv3dBackward(a.x, a.weight, dy, { padding: 'same', paddingMode: 'symmetric' }) as unknown as Grads,
    wrt: { gradInput: 'x', gradWeight: 'weight' },
    step: 0.25,
  },
  {
    name: 'convTranspose2d stride 2, output padding, bias',
    args: { x: tensor([2, 3, 3, 4], 8), weight: tensor([3, 2, 3, 3], 9), bias: tensor([2], 10) },
    forward: (ck, a) => ck.convTranspose2d(a.x, a.weight, { stride: 2, padding: 1, outputPadding: 1, bias: a.bias }),
    backward: (ck, a, dy) => ck.convTranspose2dBackward(a.x, a.weight, dy, { stride: 2, padding: 1, outputPadding: 1, bias: a.bias }) as unknown as Grads,
    wrt: { gradInput: 'x', gradWeight: 'weight', gradBias: 'bias' },
    step: 0.25,
  },
  {
    name: 'maxPool2d overlapping windows, dilation',
    args: { x: spaced([1, 2, 7, 7], 11) },
    forward: (ck, a) => ck.maxPool2d(a.x, { kernelSize: 3, stride: 1, padding: 1, dilation: 2 }),
    backward: (ck, a, dy) => ck.maxPool2dBackward(a.x, dy, { kernelSize: 3, stride: 1, padding: 1, dilation: 2 }) as unknown as Grads,
    wrt: { gradInput: 'x' },
    step: 0.01,
  },
  {
    name: 'avgPool2d ceil mode without pad counting',
    args: { x: tensor([1, 2, 7, 6], 12) },
    forward: (ck, a) => ck.avgPool2d(a.x, { kernelSize: 3, stride: 2, padding: 1, ceilMode: true, countIncludePad: false }),
    backward: (ck, a, dy) => ck.avgPool2dBackward(a.x, dy, { kernelSize: 3, stride: 2, padding: 1, ceilMode: true, countIncludePad: false }) as unknown as Grads,
    wrt: { gradInput: 'x' },
    step: 0.25,
  },
  {
    name: 'deformConv2d with mask',
    args: { x: tensor([1, 2, 5, 5], 13), offset: offsets([1, 2 * 2 * 4, 4, 4], 14), weight: tensor([3, 2, 2, 2], 15), mask: tensor([1, 2 * 4, 4, 4], 16) },
    forward: (ck, a) => ck.deformConv2d(a.x, a.offset, a.weight, { mask: a.mask }),
    backward: (ck, a, dy) => ck.deformConv2dBackward(a.x, a.offset, a.weight, dy, { mask: a.mask }) as unknown as Grads,
    wrt: { gradInput: 'x', gradOffset: 'offset', gradWeight: 'weight', gradMask: 'mask' },
    step: 0.01,
  },
  {
    name: 'separableConv2d with both biases',
    args: { x: tensor([1, 2, 6, 5], 17), dw: tensor([4, 1, 3, 3], 18), pw: tensor([3, 4, 1, 1], 19), db: tensor([4], 20), pb: tensor([3], 21) },
    forward: (ck, a) => ck.separableConv2d(a.x, a.dw, a.pw, { padding: 1, depthwiseBias: a.db, bias: a.pb }),
    backward: (ck, a, dy) => ck.separableConv2dBackward(a.x, a.dw, a.pw, dy, { padding: 1, depthwiseBias: a.db, bias: a.pb }) as unknown as Grads,
    wrt: { gradInput: 'x', gradDepthwiseWeight: 'dw', gradPointwiseWeight: 'pw', gradDepthwiseBias: 'db', gradBias: 'pb' },
    step: 0.25,
  },
  {
    name: 'sepFilter2d replicate',
    args: { x: tensor([1, 2, 6, 7], 22), ky: tensor([3], 23), kx: tensor([4], 24) },
    forward: (ck, a) => ck.sepFilter2d(a.x, a.ky.data, a.kx.data, { padding: 'same', paddingMode: 'replicate' }),
    backward: (ck, a, dy) => ck.sepFilter2dBackward(a.x, a.ky.data, a.kx.data, dy, { padding: 'same', paddingMode: 'replicate' }) as unknown as Grads,
    wrt: { gradInput: 'x', gradKernelY: 'ky', gradKernelX: 'kx' },
    step: 0.25,
  },
];

/** d<forward(args), dy>/d args[name][i] by central differences, in float64. */
function numericGradient(js: Convkit, c: Case, name: string, dy: Tensor): Float64Array {
  const loss = (args: Record<string, Tensor>) => c.forward(js, args).data.reduce((s, v, i) => s + v * dy.data[i], 0);
  const base = c.args[name];
  const out = new Float64Array(base.data.length);
  for (let i = 0; i < out.length; i++) {
    const at = (d: number) => {
      const data = base.data.slice();
      data[i] += d;
      return loss({ ...c.args, [name]: { data, shape: base.shape } });
    };
    out[i] = (at(c.step) - at(-c.step)) / (2 * c.step);
  }
  return out;
}

describe('finite differences', () => {
  let js: Convkit;
  const numeric = new Map<string, Record<string, Float64Array>>();
  const gradOutputs = new Map<string, Tensor>();
  beforeAll(async () => {
    js = await loadConvkit('js');
    cases.forEach((c, i) => {
      const y = c.forward(js, c.args);
      const dy = tensor(y.shape, 100 + i);
      gradOutputs.set(c.name, dy);
      numeric.set(c.name, Object.fromEntries(Object.entries(c.wrt).map(([grad, arg]) => [grad, numericGradient(js, c, arg, dy)])));
    });
  });

  describe.each<Kind>(['wasm-simd', 'wasm', 'js'])('%s backend', (kind) => {
    let ck: Convkit;
    beforeAll(async () => {
      ck = await loadConvkit(kind);
    });
    it.each(cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
      const grads = c.backward(ck, c.args, gradOutputs.get(c.name)!);
      expect(Object.keys(grads).sort()).toEqual(Object.keys(c.wrt).sort());
      for (const [name, want] of Object.entries(numeric.get(c.name)!)) {
        const g = grads[name];
        const got = g instanceof Float32Array ? g : g.data;
        expect(got.length, name).toBe(want.length);
        const worst = want.reduce((m, w, i) => Math.max(m, Math.abs(got[i] - w) - (2e-3 + 1e-3 * Math.abs(w))), -Infinity);
        expect(worst, `${name}: worst excess over tolerance`).toBeLessThanOrEqual(0);
        // A gradient that is all zeros would pass against zero numerics: make sure this one is not.
        expect(want.some((w) => Math.abs(w) > 1e-2), `${name} is not trivially zero`).toBe(true);
      }
    });
  });
});
