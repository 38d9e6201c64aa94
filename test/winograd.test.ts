// algorithm: 'winograd' on every PyTorch conv fixture it can serve (1-D and 2-D, kernel size 3,
// stride 1), within the tolerance documented in README; every other fixture gets UNSUPPORTED naming
// the algorithm, and the js backend (which has no Winograd) refuses it by name.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Tensor } from '../ts/index.js';
import { compare, loadConvFixtures, loadConvkit, type ConvFixture, type Convkit } from './helpers.js';

/** README, "Algorithms": F(4x4,3x3) keeps |got - want| <= 1e-4 + 1e-3 * |want|. */
const WINOGRAD_ATOL = 1e-4;
const WINOGRAD_RTOL = 1e-3;

const fixtures = loadConvFixtures();

const perAxis = (v: unknown) => (Array.isArray(v) ? (v as number[]) : [v ?? 1]);

function servable(f: ConvFixture): boolean {
  return f.op !== 'conv3d' && f.weight.shape.slice(2).every((k) => k === 3) && perAxis(f.options.stride).every((s) => s === 1);
}

function call(ck: Convkit, f: ConvFixture): Tensor {
  const options = { ...f.options, algorithm: 'winograd', ...(f.bias ? { bias: f.bias } : {}) };
  return (ck[f.op] as (...a: unknown[]) => Tensor)(f.x, f.weight, options);
}

function thrown(run: () => unknown): { code?: string; message?: string } {
  try {
    run();
  } catch (e) {
    return e as { code: string; message: string };
  }
  return {};
}

const served = fixtures.filter(servable);

it('serves a broad part of the fixtures, dilated and 1-D included', () => {
  expect(served.length).toBeGreaterThanOrEqual(15);
  expect(served.some((f) => f.op === 'conv1d')).toBe(true);
  expect(served.some((f) => perAxis(f.options.dilation).some((d) => d > 1))).toBe(true);
});

describe.each(['wasm-simd', 'wasm'] as const)('winograd on %s matches PyTorch', (kind) => {
  let ck: Convkit;
  beforeAll(async () => {
    ck = await loadConvkit(kind);
  });

  it.each(served.map((f) => [f.name, f] as const))('%s', (_, f) => {
    expect(compare(call(ck, f), f.expected, WINOGRAD_ATOL, WINOGRAD_RTOL).detail).toBe('ok');
  });

  it('answers every other fixture with UNSUPPORTED naming the algorithm', () => {
    const others = fixtures.filter((f) => !servable(f));
    expect(others.length).toBeGreaterThan(0);
    for (const f of others) {
      const e = thrown(() => call(ck, f));
      expect([f.name, e.code]).toEqual([f.name, 'UNSUPPORTED']);
      expect(e.message).toMatch(/algorithm 'winograd'/);
    }
  });
});

it('the js backend refuses winograd by name', async () => {
  const ck = await loadConvkit('js');
  const e = thrown(() => call(ck, served[0]));
  expect(e.code).toBe('UNSUPPORTED');
  expect(e.message).toMatch(/algorithm 'winograd'.*js backend/);
});
