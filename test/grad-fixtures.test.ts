// Every op's backward against PyTorch autograd (test/fixtures/generate.py, float64 autograd on the
// same float32 inputs), on every backend and in the pool.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tensor } from '../ts/index.js';
import { DIST, compareGradients, gradFixtureArgs, loadConvkit, loadGradFixtures, type Convkit, type Kind } from './helpers.js';

const fixtures = loadGradFixtures();
type Grads = Record<string, Tensor | Float32Array>;

it('covers the backward of every op', () => {
  const ops = new Set(fixtures.map((f) => f.op));
  for (const op of [
    'conv1d', 'conv2d', 'conv3d', 'convTranspose1d', 'convTranspose2d', 'convTranspose3d',
    'maxPool1d', 'maxPool2d', 'maxPool3d', 'minPool1d', 'minPool2d', 'minPool3d', 'avgPool1d', 'avgPool2d', 'avgPool3d',
    'globalAvgPool', 'globalMaxPool', 'depthwiseConv2d', 'pointwiseConv2d', 'separableConv2d', 'sepFilter2d', 'deformConv2d',
  ]) {
    expect(ops.has(`${op}Backward`), op).toBe(true);
  }
});

describe.each<Kind>(['wasm-simd', 'wasm', 'js'])('%s backend matches PyTorch autograd', (kind) => {
  let ck: Convkit;
  beforeAll(async () => {
    ck = await loadConvkit(kind);
  });
  it.each(fixtures.map((f) => [f.name, f] as const))('%s', (_, f) => {
    const fn = ck[f.op as keyof Convkit] as (...a: unknown[]) => Grads;
    expect(compareGradients(f, fn(...gradFixtureArgs(f)))).toBe('ok');
  });
});

describe('pool (wasm-simd in 2 workers) matches PyTorch autograd', () => {
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
        const fn = pool[f.op as keyof typeof pool] as (...a: unknown[]) => Promise<Grads>;
        const detail = compareGradients(f, await fn(...gradFixtureArgs(f)));
        if (detail !== 'ok') failures.push(`${f.name}: ${detail}`);
      }),
    );
    expect(failures).toEqual([]);
  });
});
