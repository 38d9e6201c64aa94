// Transposed convolutions, every pooling op (with PyTorch's indices) and the composites against
// PyTorch fixtures (test/fixtures/generate.py), on every backend and in the pool.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tensor } from '../ts/index.js';
import { DIST, compare, fixtureArgs, loadConvkit, loadOpFixtures, type Convkit, type Kind, type OpFixture } from './helpers.js';

const fixtures = loadOpFixtures();

/** Compares a result (a tensor, or `{ output, indices }`) with a fixture. */
function check(f: OpFixture, result: unknown): string {
  const withIndices = result as { output?: Tensor; indices?: Int32Array };
  const output = (withIndices.output ?? result) as Tensor;
  const values = compare(output, f.expected);
  if (!values.ok) return values.detail;
  if (f.indices) {
    if (!(withIndices.indices instanceof Int32Array)) return 'no Int32Array indices';
    const got = Array.from(withIndices.indices);
    const bad = got.findIndex((v, i) => v !== f.indices![i]);
    if (bad >= 0 || got.length !== f.indices.length) return `indices differ at ${bad}: ${got[bad]} vs ${f.indices[bad]}`;
  }
  return 'ok';
}

it('covers every op', () => {
  const ops = new Set(fixtures.map((f) => f.op));
  for (const op of [
    'convTranspose1d', 'convTranspose2d', 'convTranspose3d',
    'maxPool1d', 'maxPool2d', 'maxPool3d', 'minPool1d', 'minPool2d', 'minPool3d', 'avgPool1d', 'avgPool2d', 'avgPool3d',
    'globalAvgPool', 'globalMaxPool', 'depthwiseConv2d', 'pointwiseConv2d', 'separableConv2d', 'sepFilter2d', 'deformConv2d',
  ]) {
    expect(ops.has(op), op).toBe(true);
  }
});

describe.each<Kind>(['wasm-simd', 'wasm', 'js'])('%s backend matches PyTorch', (kind) => {
  let ck: Convkit;
  beforeAll(async () => {
    ck = await loadConvkit(kind);
  });
  it.each(fixtures.map((f) => [f.name, f] as const))('%s', (_, f) => {
    const fn = ck[f.op as keyof Convkit] as (...a: unknown[]) => unknown;
    expect(check(f, fn(...fixtureArgs(f)))).toBe('ok');
  });
});

describe('pool (wasm-simd in 2 workers) matches PyTorch', () => {
  let pool: Awaited<ReturnType<Convkit['createPool']>>;
  beforeAll(async () => {
    const ck = await loadConvkit('wasm-simd');
    pool = await ck.createPool({ workers: 2, workerUrl: new URL('worker.js', DIST), wasmBase: DIST });
  });
  afterAll(() => pool.terminate());
  it('every fixture', async () => {
    const failures: string[] = [];
    await Promise.all(
      fixtures.map(async (f) => {
        const fn = pool[f.op as keyof typeof pool] as (...a: unknown[]) => Promise<unknown>;
        const detail = check(f, await fn(...fixtureArgs(f)));
        if (detail !== 'ok') failures.push(`${f.name}: ${detail}`);
      }),
    );
    expect(failures).toEqual([]);
  });
});
