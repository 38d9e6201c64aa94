import { readFileSync } from 'node:fs';
import { vi } from 'vitest';
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

/** Largest violation of |got - want| <= ATOL + RTOL * |want| (<= 0 when within tolerance), or a
 * description of a shape mismatch. */
export function compare(got: Tensor, want: Tensor, atol = ATOL, rtol = RTOL): { ok: boolean; detail: string } {
  if (JSON.stringify(got.shape) !== JSON.stringify(want.shape)) {
    return { ok: false, detail: `shape [${got.shape}] != [${want.shape}]` };
  }
  let worst = -Infinity;
  let at = -1;
  for (let i = 0; i < want.data.length; i++) {
    const excess = Math.abs(got.data[i] - want.data[i]) - (atol + rtol * Math.abs(want.data[i]));
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
