// conv1d/2d/3d against PyTorch fixtures (test/fixtures/generate.py) on every backend and the pool.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIST, compare, loadConvFixtures, loadConvkit, type Convkit, type Kind } from './helpers.js';

const fixtures = loadConvFixtures();

function options(f: (typeof fixtures)[number]) {
  return f.bias ? { ...f.options, bias: f.bias } : f.options;
}

it('has a broad fixture set', () => {
  expect(fixtures.length).toBeGreaterThanOrEqual(200);
  for (const mode of ['zeros', 'reflect', 'symmetric', 'replicate', 'circular']) {
    expect(fixtures.filter((f) => f.options.paddingMode === mode).length).toBeGreaterThan(10);
  }
});

describe.each<Kind>(['wasm-simd', 'wasm', 'js'])('%s backend matches PyTorch', (kind) => {
  let ck: Convkit;
  beforeAll(async () => {
    ck = await loadConvkit(kind);
  });
  it.each(fixtures.map((f) => [f.name, f] as const))('%s', (_, f) => {
    const got = ck[f.op](f.x, f.weight, options(f));
    const result = compare(got, f.expected);
    expect(result.detail).toBe('ok');
  });
});

describe.each<Kind>(['wasm-simd', 'js'])('pool (%s in 2 workers) matches PyTorch', (kind) => {
  let ck: Convkit;
  let pool: Awaited<ReturnType<Convkit['createPool']>>;
  beforeAll(async () => {
    ck = await loadConvkit(kind);
    pool = await ck.createPool({
      workers: 2,
      workerUrl: new URL('worker.js', DIST),
      wasmBase: DIST,
      wasm: kind !== 'js',
    });
    expect(pool.info.backend).toBe(kind);
  });
  afterAll(() => pool.terminate());
  it('every fixture', async () => {
    const failures: string[] = [];
    await Promise.all(
      fixtures.map(async (f) => {
        const result = compare(await pool[f.op](f.x, f.weight, options(f)), f.expected);
        if (!result.ok) failures.push(`${f.name}: ${result.detail}`);
      }),
    );
    expect(failures).toEqual([]);
  });
});
