// Property tests (fast-check): random configurations of every op agree exactly across wasm-SIMD,
// wasm-scalar and JS (integer-valued data, so every sum is exact whatever the order), or all three
// reject them with the same ConvkitError code; random invalid calls always give a ConvkitError
// naming the op (never a trap, a panic message, a hang or a wrong-sized result); inputs are never
// modified. CONVKIT_PROPERTY_RUNS sets the runs per property (scripts/nightly.sh runs many more).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tensor } from '../ts/index.js';
import { DIST, loadConvkit, type Convkit, type Kind } from './helpers.js';

const RUNS = Number(process.env.CONVKIT_PROPERTY_RUNS ?? 250);
// scripts/test.sh fixes the seed so that CI is reproducible; unset, every run explores new cases.
if (process.env.CONVKIT_PROPERTY_SEED) fc.configureGlobal({ seed: Number(process.env.CONVKIT_PROPERTY_SEED) });
const KINDS: Kind[] = ['wasm-simd', 'wasm', 'js'];
const CODES = ['INVALID_ARGUMENT', 'SHAPE_MISMATCH', 'UNSUPPORTED', 'OUT_OF_MEMORY'];
const MODES = ['zeros', 'reflect', 'symmetric', 'replicate', 'circular'] as const;

/** Integers in [-3, 3] from a seed. */
function ints(shape: number[], seed: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    data[i] = (s >>> 29) - 3;
  }
  return { data, shape };
}

type Outcome = { ok: [string, ArrayLike<number>, number[] | undefined][] } | { error: unknown };

/** Every array of a result (a tensor, `{ output, indices }` or named gradients), by name. */
function arrays(result: unknown): [string, ArrayLike<number>, number[] | undefined][] {
  if (result instanceof Float32Array || result instanceof Int32Array) return [['', result, undefined]];
  const r = result as Record<string, unknown>;
  if (r.data instanceof Float32Array) return [['', r.data, r.shape as number[]]];
  return Object.keys(r)
    .sort()
    .flatMap((k) => arrays(r[k]).map(([name, data, shape]) => [`${k}${name}`, data, shape] as [string, ArrayLike<number>, number[] | undefined]));
}

function outcome(run: () => unknown): Outcome {
  try {
    return { ok: arrays(run()) };
  } catch (error) {
    return { error };
  }
}

/** The same result on every backend, or the same ConvkitError code; the inputs untouched. */
function agree(cks: Convkit[], inputs: Tensor[], call: (ck: Convkit) => unknown): void {
  const before = inputs.map((t) => t.data.slice());
  const outcomes = cks.map((ck) => outcome(() => call(ck)));
  inputs.forEach((t, i) => expect(t.data, 'inputs are never modified').toEqual(before[i]));
  const [first, ...rest] = outcomes;
  if ('error' in first) {
    const e = first.error as { name?: string; code?: string; message?: string };
    expect(e.name, String(first.error)).toBe('ConvkitError');
    expect(CODES).toContain(e.code);
    for (const o of rest) expect('error' in o && (o.error as { code?: string }).code, `other backends: ${JSON.stringify(o)}`).toBe(e.code);
    return;
  }
  for (const o of rest) {
    expect('ok' in o, 'error' in o ? String(o.error) : '').toBe(true);
    const entries = (o as { ok: Outcome extends { ok: infer T } ? T : never }).ok;
    expect(entries.map((e) => [e[0], e[2]])).toEqual(first.ok.map((e) => [e[0], e[2]]));
    entries.forEach(([name, data], i) => {
      const want = first.ok[i][1];
      expect(data.length, name).toBe(want.length);
      for (let j = 0; j < want.length; j++) if (!Object.is(data[j], want[j])) expect(`${name}[${j}] = ${data[j]}`).toBe(`${name}[${j}] = ${want[j]}`);
    });
  }
}

/** A random output gradient for the forward call's output on the JS backend, or undefined when the
 * forward rejects the configuration (the forward property covers that). */
function gradOutputFor(forward: () => unknown, seed: number): Tensor | undefined {
  let y: Tensor | { output: Tensor };
  try {
    y = forward() as Tensor | { output: Tensor };
  } catch {
    return undefined;
  }
  return ints(('output' in y ? y.output : y).shape, seed);
}

const spatial = fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 3, maxLength: 3 });
const kernelSizes = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 3, maxLength: 3 });
const seed = fc.integer({ min: 1, max: 2 ** 30 });

/** The sizes of a grouped convolution, forward or transposed. */
const groupedConvSizes = {
  dims: fc.integer({ min: 1, max: 3 }),
  batch: fc.integer({ min: 0, max: 2 }),
  groups: fc.integer({ min: 1, max: 3 }),
  inPerGroup: fc.integer({ min: 1, max: 3 }),
  outPerGroup: fc.integer({ min: 1, max: 3 }),
  size: spatial,
  kernel: kernelSizes,
  stride: fc.integer({ min: 1, max: 3 }),
  dilation: fc.integer({ min: 1, max: 3 }),
};

const convConfig = fc.record({
  ...groupedConvSizes,
  padding: fc.oneof(fc.constantFrom('valid', 'same', 'full', 'causal'), fc.integer({ min: 0, max: 3 })),
  paddingMode: fc.constantFrom(...MODES),
  bias: fc.boolean(),
  flip: fc.boolean(),
  channelsLast: fc.boolean(),
  unbatched: fc.boolean(),
  algorithm: fc.constantFrom('auto', 'direct', 'im2col'),
  seed,
});
type ConvConfig = typeof convConfig extends fc.Arbitrary<infer T> ? T : never;

function convArgs(c: ConvConfig) {
  const s = c.size.slice(0, c.dims);
  const channels = c.groups * c.inPerGroup;
  const outChannels = c.groups * c.outPerGroup;
  const batch = c.unbatched ? 1 : c.batch;
  const xShape = c.channelsLast ? [batch, ...s, channels] : [batch, channels, ...s];
  const x = ints(c.unbatched ? xShape.slice(1) : xShape, c.seed);
  const w = ints([outChannels, c.inPerGroup, ...c.kernel.slice(0, c.dims)], c.seed + 1);
  const bias = c.bias ? ints([outChannels], c.seed + 2) : undefined;
  const opts = {
    stride: c.stride,
    dilation: c.dilation,
    padding: c.padding,
    paddingMode: c.paddingMode,
    groups: c.groups,
    flip: c.flip,
    algorithm: c.algorithm,
    layout: c.channelsLast ? 'channels-last' : 'channels-first',
    ...(bias && { bias }),
  };
  return { x, w, bias, opts, op: `conv${c.dims}d` as const };
}

describe('every backend agrees on random configurations', () => {
  let cks: Convkit[];
  beforeAll(async () => {
    cks = [];
    for (const kind of KINDS) cks.push(await loadConvkit(kind));
  });

  it('convolutions (1D-3D, every padding form and mode, groups, flip, bias, layouts)', () => {
    fc.assert(
      fc.property(convConfig, (c) => {
        const { x, w, bias, opts, op } = convArgs(c);
        agree(cks, [x, w, ...(bias ? [bias] : [])], (ck) => ck[op](x, w, opts));
      }),
      { numRuns: RUNS },
    );
  });

  it('convolution gradients', () => {
    fc.assert(
      fc.property(convConfig, (c) => {
        const { x, w, opts, op } = convArgs(c);
        const dy = gradOutputFor(() => cks[2][op](x, w, opts), c.seed + 3);
        if (dy) agree(cks, [x, w, dy], (ck) => ck[`${op}Backward`](x, w, dy, opts));
      }),
      { numRuns: RUNS },
    );
  });

  it('transposed convolutions and their gradients', () => {
    const config = fc.record({
      ...groupedConvSizes,
      groups: fc.integer({ min: 1, max: 2 }),
      padding: fc.integer({ min: 0, max: 3 }),
      outputPadding: fc.integer({ min: 0, max: 2 }),
      bias: fc.boolean(),
      seed,
    });
    fc.assert(
      fc.property(config, (c) => {
        const op = `convTranspose${c.dims}d` as const;
        const x = ints([c.batch, c.groups * c.inPerGroup, ...c.size.slice(0, c.dims)], c.seed);
        const w = ints([c.groups * c.inPerGroup, c.outPerGroup, ...c.kernel.slice(0, c.dims)], c.seed + 1);
        const bias = c.bias ? ints([c.groups * c.outPerGroup], c.seed + 2) : undefined;
        const opts = { stride: c.stride, dilation: c.dilation, padding: c.padding, outputPadding: c.outputPadding, groups: c.groups, ...(bias && { bias }) };
        agree(cks, [x, w], (ck) => ck[op](x, w, opts));
        const dy = gradOutputFor(() => cks[2][op](x, w, opts), c.seed + 3);
        if (dy) agree(cks, [x, w, dy], (ck) => ck[`${op}Backward`](x, w, dy, opts));
      }),
      { numRuns: RUNS },
    );
  });

  it('pooling (max, min, avg; indices) and its gradients', () => {
    const config = fc.record({
      kind: fc.constantFrom('max', 'min', 'avg'),
      dims: fc.integer({ min: 1, max: 3 }),
      batch: fc.integer({ min: 0, max: 2 }),
      channels: fc.integer({ min: 1, max: 3 }),
      size: spatial,
      kernel: kernelSizes,
      stride: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
      padding: fc.integer({ min: 0, max: 2 }),
      dilation: fc.integer({ min: 1, max: 2 }),
      ceilMode: fc.boolean(),
      countIncludePad: fc.boolean(),
      divisorOverride: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
      seed,
    });
    fc.assert(
      fc.property(config, (c) => {
        const op = `${c.kind}Pool${c.dims}d` as const;
        const x = ints([c.batch, c.channels, ...c.size.slice(0, c.dims)], c.seed);
        const opts =
          c.kind === 'avg'
            ? { kernelSize: c.kernel.slice(0, c.dims), stride: c.stride, padding: c.padding, ceilMode: c.ceilMode, countIncludePad: c.countIncludePad, divisorOverride: c.divisorOverride }
            : { kernelSize: c.kernel.slice(0, c.dims), stride: c.stride, padding: c.padding, dilation: c.dilation, ceilMode: c.ceilMode, returnIndices: true };
        agree(cks, [x], (ck) => (ck[op] as (x: Tensor, o: object) => unknown)(x, opts));
        const dy = gradOutputFor(() => (cks[2][op] as (x: Tensor, o: object) => unknown)(x, opts), c.seed + 1);
        if (dy) agree(cks, [x, dy], (ck) => (ck[`${op}Backward`] as (x: Tensor, dy: Tensor, o: object) => unknown)(x, dy, opts));
      }),
      { numRuns: RUNS },
    );
  });

  it('deformable convolution (integer offsets) and its gradients', () => {
    const config = fc.record({
      batch: fc.integer({ min: 1, max: 2 }),
      groups: fc.integer({ min: 1, max: 2 }),
      offsetGroups: fc.integer({ min: 1, max: 2 }),
      outPerGroup: fc.integer({ min: 1, max: 2 }),
      size: spatial,
      kernel: kernelSizes,
      stride: fc.integer({ min: 1, max: 2 }),
      dilation: fc.integer({ min: 1, max: 2 }),
      padding: fc.integer({ min: 0, max: 2 }),
      mask: fc.boolean(),
      bias: fc.boolean(),
      seed,
    });
    fc.assert(
      fc.property(config, (c) => {
        const channels = 2 * c.groups * c.offsetGroups;
        const [h, w] = [c.size[0] + 1, c.size[1] + 1];
        const [kh, kw] = [Math.min(c.kernel[0], 3), Math.min(c.kernel[1], 3)];
        const out = (n: number, k: number) => Math.floor((n + 2 * c.padding - c.dilation * (k - 1) - 1) / c.stride) + 1;
        const [ho, wo] = [out(h, kh), out(w, kw)];
        if (ho < 1 || wo < 1) return;
        const x = ints([c.batch, channels, h, w], c.seed);
        const offset = ints([c.batch, 2 * c.offsetGroups * kh * kw, ho, wo], c.seed + 1);
        const weight = ints([c.groups * c.outPerGroup, channels / c.groups, kh, kw], c.seed + 2);
        const mask = c.mask ? ints([c.batch, c.offsetGroups * kh * kw, ho, wo], c.seed + 3) : undefined;
        const bias = c.bias ? ints([c.groups * c.outPerGroup], c.seed + 4) : undefined;
        const opts = { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups, ...(mask && { mask }), ...(bias && { bias }) };
        agree(cks, [x, offset, weight], (ck) => ck.deformConv2d(x, offset, weight, opts));
        const dy = ints([c.batch, c.groups * c.outPerGroup, ho, wo], c.seed + 5);
        agree(cks, [x, offset, weight, dy], (ck) => ck.deformConv2dBackward(x, offset, weight, dy, opts));
      }),
      { numRuns: Math.ceil(RUNS / 2) },
    );
  });
});

/** One thing wrong with an otherwise valid conv2d call `(x [2, 4, 6, 6], w [6, 2, 3, 3], groups 2)`. */
const badValue = fc.oneof(
  fc.constantFrom(0, -1, 1.5, NaN, Infinity, -Infinity, '2', null, true, [], {}, [1, 2, 3], [[1, 2, 3]], 2 ** 40),
  fc.integer({ min: -5, max: 0 }),
  fc.string({ maxLength: 4 }),
);
const mutation = fc.oneof(
  fc.record({ option: fc.constantFrom('stride', 'dilation', 'padding', 'groups', 'paddingMode', 'layout', 'algorithm', 'flip', 'bias', 'backend', 'nonsense'), value: badValue }),
  fc.record({ tensor: fc.constantFrom('x', 'w'), shape: fc.array(fc.oneof(fc.integer({ min: 0, max: 7 }), fc.constantFrom(-1, 1.5, NaN)), { maxLength: 6 }) }),
  fc.record({ tensor: fc.constantFrom('x', 'w'), dataLength: fc.integer({ min: 0, max: 400 }) }),
  fc.record({ replace: fc.constantFrom('x', 'w', 'opts'), value: fc.constantFrom(null, undefined, 3, 'x', [], new Float32Array(4), { data: [1, 2], shape: [2] }) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutated(m: Mutation): { args: unknown[]; inputs: Tensor[] } {
  let x: unknown = ints([2, 4, 6, 6], 1);
  let w: unknown = ints([6, 2, 3, 3], 2);
  let opts: unknown = { groups: 2, padding: 1 };
  if ('option' in m) {
    if (['paddingMode', 'layout', 'algorithm', 'backend'].includes(m.option) && typeof m.value === 'string' && ['', 'zeros', 'js', 'wasm', 'auto'].includes(m.value)) {
      m = { ...m, value: 'bogus' };
    }
    opts = { groups: 2, padding: 1, [m.option]: m.value };
  } else if ('shape' in m) {
    const t = (m.tensor === 'x' ? x : w) as Tensor;
    const shape = m.shape.length === t.shape.length && m.shape.every((d, i) => d === t.shape[i]) ? [...m.shape, 1, 1] : m.shape;
    const valid = shape.every((d) => Number.isInteger(d) && d >= 0);
    const n = valid ? shape.reduce((a, b) => a * b, 1) : 4;
    const replaced = { data: ints([n], 3).data, shape };
    if (m.tensor === 'x') x = replaced;
    else w = replaced;
  } else if ('dataLength' in m) {
    const t = (m.tensor === 'x' ? x : w) as Tensor;
    const n = m.dataLength === t.data.length ? m.dataLength + 1 : m.dataLength;
    const replaced = { data: new Float32Array(n), shape: t.shape };
    if (m.tensor === 'x') x = replaced;
    else w = replaced;
  } else if (m.replace === 'x') x = m.value;
  else if (m.replace === 'w') w = m.value;
  else opts = m.value === undefined ? 5 : m.value;
  const inputs = [x, w].filter((t): t is Tensor => (t as Tensor)?.data instanceof Float32Array);
  return { args: [x, w, opts], inputs };
}

/** A shape mutation can happen to stay valid (e.g. another valid kernel): those must succeed. */
function expectConvkitErrorOrValidResult(run: () => unknown, inputs: Tensor[]) {
  const before = inputs.map((t) => t.data.slice());
  try {
    const y = run() as Tensor;
    expect(y.data.length).toBe(y.shape.reduce((a, b) => a * b, 1));
  } catch (e) {
    expect((e as Error).name, String(e)).toBe('ConvkitError');
    expect(CODES).toContain((e as { code: string }).code);
    expect((e as Error).message).toMatch(/^conv2d: /);
  }
  inputs.forEach((t, i) => expect(t.data).toEqual(before[i]));
}

describe('invalid calls always give a ConvkitError', () => {
  let cks: Convkit[];
  beforeAll(async () => {
    cks = [await loadConvkit('wasm-simd'), await loadConvkit('js')];
  });

  it.each([0, 1])('on the calling thread (%#: wasm-simd, js), and the next call works', (i) => {
    const ck = cks[i];
    fc.assert(
      fc.property(mutation, (m) => {
        const { args, inputs } = mutated(m);
        expectConvkitErrorOrValidResult(() => (ck.conv2d as (...a: unknown[]) => unknown)(...args), inputs);
        expect(ck.conv2d(ints([1, 1, 4, 4], 5), ints([1, 1, 3, 3], 6)).shape).toEqual([1, 1, 2, 2]);
      }),
      { numRuns: RUNS * 2 },
    );
  });

  describe('in the pool', () => {
    let pool: Awaited<ReturnType<Convkit['createPool']>>;
    beforeAll(async () => {
      pool = await cks[0].createPool({ workers: 2, workerUrl: new URL('worker.js', DIST), wasmBase: DIST });
    });
    afterAll(() => pool.terminate());
    it('rejects (never hangs) with a ConvkitError', async () => {
      await fc.assert(
        fc.asyncProperty(mutation, async (m) => {
          const { args, inputs } = mutated(m);
          let result: unknown;
          try {
            result = await (pool.conv2d as (...a: unknown[]) => Promise<unknown>)(...args);
          } catch (e) {
            result = e;
          }
          expectConvkitErrorOrValidResult(() => {
            if (result instanceof Error) throw result;
            return result;
          }, inputs);
        }),
        { numRuns: Math.ceil(RUNS / 2) },
      );
      expect(pool.stats()).toMatchObject({ workers: 2, inFlight: 0 });
    });
  });
});
