import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ConvProblem } from '../ts/api/problem.js';
import type { Tensor } from '../ts/index.js';

export type Convkit = typeof import('../ts/index.js');
export type Kind = 'wasm-simd' | 'wasm' | 'js';

export const DIST = new URL('../dist/', import.meta.url);

/** A fresh copy of the library (its own runtime state and wasm instance) initialized for `kind`. */
export async function loadConvkit(kind: Kind): Promise<Convkit> {
  vi.resetModules();
  const ck: Convkit = await import('../ts/index.js');
  await ck.init({ wasmBase: DIST, simd: kind === 'wasm-simd', wasm: kind !== 'js' });
  if (ck.backendInfo().backend !== kind) throw new Error(`asked for ${kind}, got ${ck.backendInfo().backend}`);
  return ck;
}

/** A 2-D convolution problem with stride 1 and padding 1 on every side, so the output keeps the
 * input's size for 3x3 kernels (what planner and splitter tests need, not a full validation). */
export function conv2dProblem(inputShape: number[], weightShape: number[], groups = 1, algorithm: ConvProblem['algorithm'] = 'auto'): ConvProblem {
  return {
    inputShape,
    weightShape,
    outputShape: [inputShape[0], weightShape[0], ...inputShape.slice(2)],
    stride: [1, 1],
    dilation: [1, 1],
    padBefore: [1, 1],
    padAfter: [1, 1],
    paddingMode: 'zeros',
    groups,
    flip: false,
    algorithm,
    hasBias: false,
  };
}

interface Encoded {
  shape: number[];
  data: string;
}

export interface ConvFixture {
  name: string;
  op: 'conv1d' | 'conv2d' | 'conv3d';
  x: Tensor;
  weight: Tensor;
  bias?: Tensor;
  options: Record<string, unknown>;
  expected: Tensor;
}

function decode(e: Encoded): Tensor {
  const bytes = Buffer.from(e.data, 'base64');
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return { data, shape: e.shape };
}

export interface OpFixture {
  name: string;
  op: string;
  args: Tensor[];
  options: Record<string, unknown>;
  tensorOptions?: Record<string, Tensor>;
  expected: Tensor;
  indices?: number[];
}

/** Every non-conv op's PyTorch fixtures (transposed conv, pooling, composites). */
export function loadOpFixtures(): OpFixture[] {
  const raw = JSON.parse(readFileSync(new URL('./fixtures/ops.json', import.meta.url), 'utf8'));
  return raw.cases.map((c: Record<string, unknown>) => ({
    ...c,
    args: (c.args as Encoded[]).map(decode),
    tensorOptions: c.tensorOptions
      ? Object.fromEntries(Object.entries(c.tensorOptions as Record<string, Encoded>).map(([k, v]) => [k, decode(v)]))
      : undefined,
    expected: decode(c.expected as Encoded),
  }));
}

/** The call arguments of an op fixture: tensors in order (sepFilter2d's kernels as bare arrays), then options. */
export function fixtureArgs(f: OpFixture): unknown[] {
  const args: unknown[] = f.op === 'sepFilter2d' ? [f.args[0], f.args[1].data, f.args[2].data] : f.args;
  return [...args, { ...f.options, ...f.tensorOptions }];
}

export interface GradFixture {
  name: string;
  /** The backward op, e.g. `conv2dBackward`. */
  op: string;
  /** The forward's tensors in call order, then gradOutput. */
  args: Tensor[];
  options: Record<string, unknown>;
  tensorOptions?: Record<string, Tensor>;
  /** Every gradient PyTorch's autograd returned, by convkit's name. */
  expected: Record<string, Tensor>;
}

/** PyTorch autograd fixtures for every op's backward. */
export function loadGradFixtures(): GradFixture[] {
  const raw = JSON.parse(readFileSync(new URL('./fixtures/grads.json', import.meta.url), 'utf8'));
  const decodeAll = (o: Record<string, Encoded>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, decode(v)]));
  return raw.cases.map((c: Record<string, unknown>) => ({
    ...c,
    args: (c.args as Encoded[]).map(decode),
    tensorOptions: c.tensorOptions ? decodeAll(c.tensorOptions as Record<string, Encoded>) : undefined,
    expected: decodeAll(c.expected as Record<string, Encoded>),
  }));
}

/** The call arguments of a gradient fixture (sepFilter2d's kernels as bare arrays). */
export function gradFixtureArgs(f: GradFixture): unknown[] {
  const args: unknown[] = f.op === 'sepFilter2dBackward' ? [f.args[0], f.args[1].data, f.args[2].data, f.args[3]] : f.args;
  return [...args, { ...f.options, ...f.tensorOptions }];
}

/** Compares every expected gradient (and that no other gradient is returned) with a result. */
export function compareGradients(f: GradFixture, result: Record<string, Tensor | Float32Array>): string {
  const names = Object.keys(result).sort();
  if (JSON.stringify(names) !== JSON.stringify(Object.keys(f.expected).sort())) return `gradients [${names}] != [${Object.keys(f.expected).sort()}]`;
  for (const [name, want] of Object.entries(f.expected)) {
    const value = result[name];
    const got = value instanceof Float32Array ? { data: value, shape: [value.length] } : value;
    const c = compare(got, want, GRAD_ATOL, GRAD_RTOL);
    if (!c.ok) return `${name}: ${c.detail}`;
  }
  return 'ok';
}

export function loadConvFixtures(): ConvFixture[] {
  const raw = JSON.parse(readFileSync(new URL('./fixtures/conv.json', import.meta.url), 'utf8'));
  return raw.cases.map((c: Record<string, unknown>) => ({
    ...c,
    x: decode(c.x as Encoded),
    weight: decode(c.weight as Encoded),
    bias: c.bias ? decode(c.bias as Encoded) : undefined,
    expected: decode(c.expected as Encoded),
  }));
}

/** The documented tolerance for float32 convolution against a float64 reference. */
export const ATOL = 1e-4;
export const RTOL = 1e-4;
/** Gradients sum over batch and space (weights) or over every window reaching an input: the same
 * float32 tolerance holds. */
export const GRAD_ATOL = 1e-4;
export const GRAD_RTOL = 1e-4;

/** Largest violation of |got - want| <= ATOL + RTOL * |want| (<= 0 when within tolerance; NaN must
 * meet NaN and an infinity the same infinity), or a description of a shape mismatch. */
export function compare(got: Tensor, want: Tensor, atol = ATOL, rtol = RTOL): { ok: boolean; detail: string } {
  if (JSON.stringify(got.shape) !== JSON.stringify(want.shape)) {
    return { ok: false, detail: `shape [${got.shape}] != [${want.shape}]` };
  }
  let worst = -Infinity;
  let at = -1;
  for (let i = 0; i < want.data.length; i++) {
    const [g, w] = [got.data[i], want.data[i]];
    // NaN must meet NaN and an infinity the same infinity; finite values get the tolerance.
    if (Number.isNaN(w) && Number.isNaN(g)) continue;
    const excess = Number.isFinite(w) ? Math.abs(g - w) - (atol + rtol * Math.abs(w)) : g === w ? -Infinity : Infinity;
    if (!(excess <= worst) || Number.isNaN(excess)) {
      worst = Number.isNaN(excess) ? Infinity : excess;
      at = i;
    }
  }
  const ok = worst <= 0;
  return { ok, detail: ok ? 'ok' : `index ${at}: got ${got.data[at]}, want ${want.data[at]}` };
}

/** Deterministic pseudo-random floats in [-1, 1). */
export function randomData(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

export function tensor(shape: number[], seed = 1): Tensor {
  return { data: randomData(shape.reduce((a, b) => a * b, 1), seed), shape };
}

/** The standard fixture run: every fixture on each backend (one test each), then all of them in a
 * 2-worker pool per `poolKinds`. `call` runs a fixture on a library or pool object; `check` returns
 * 'ok' or what differs. */
export function fixtureSuites<F extends { name: string }>(
  fixtures: F[],
  call: (lib: Record<string, unknown>, f: F) => unknown,
  check: (f: F, result: unknown) => string,
  poolKinds: Kind[] = ['wasm-simd'],
): void {
  describe.each<Kind>(['wasm-simd', 'wasm', 'js'])('%s backend matches PyTorch', (kind) => {
    let ck: Convkit;
    beforeAll(async () => {
      ck = await loadConvkit(kind);
    });
    it.each(fixtures.map((f) => [f.name, f] as const))('%s', (_, f) => {
      expect(check(f, call(ck as unknown as Record<string, unknown>, f))).toBe('ok');
    });
  });

  describe.each(poolKinds)('pool (%s in 2 workers, every call split that can be) matches PyTorch', (kind) => {
    let pool: Awaited<ReturnType<Convkit['createPool']>>;
    beforeAll(async () => {
      const ck = await loadConvkit(kind);
      // Fixtures are small: without minWorkToSplit 0 they would all run whole.
      pool = await ck.createPool({ workers: 2, workerUrl: new URL('worker.js', DIST), wasmBase: DIST, wasm: kind !== 'js', minWorkToSplit: 0 });
      expect(pool.info.backend).toBe(kind);
    });
    afterAll(() => pool.terminate());
    it('every fixture', async () => {
      const failures: string[] = [];
      await Promise.all(
        fixtures.map(async (f) => {
          const detail = check(f, await call(pool as unknown as Record<string, unknown>, f));
          if (detail !== 'ok') failures.push(`${f.name}: ${detail}`);
        }),
      );
      expect(failures).toEqual([]);
    });
  });
}

export type TestPool = Awaited<ReturnType<Convkit['createPool']>>;

/** A suite's library (for `kind`) and 2-worker pool on it: started before its tests, terminated after. */
export function suitePool(kind: Kind = 'wasm-simd', opts: { minWorkToSplit?: number } = {}): { ck: Convkit; pool: TestPool } {
  const env = {} as { ck: Convkit; pool: TestPool };
  beforeAll(async () => {
    env.ck = await loadConvkit(kind);
    env.pool = await env.ck.createPool({ workers: 2, workerUrl: new URL('worker.js', DIST), wasmBase: DIST, wasm: kind !== 'js', simd: kind === 'wasm-simd', ...opts });
  });
  afterAll(() => env.pool.terminate());
  return env;
}

/** Headless Debian Chromium (installed by scripts/setup.sh), for the browser tests. */
export function launchChromium() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Calls `lib[op](...args)`. */
export function callOp(lib: Record<string, unknown>, op: string, args: unknown[]): unknown {
  return (lib[op] as (...a: unknown[]) => unknown)(...args);
}
