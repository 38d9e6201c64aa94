// Every explicit algorithm that serves any convolution ('direct', 'im2col') on every PyTorch conv
// fixture and every backend, within the fixtures' tolerance. ('winograd' and 'fft' serve only some
// calls: winograd.test.ts and fft.test.ts run them on what they serve.)
import { beforeAll, describe, expect, it } from 'vitest';
import type { Tensor } from '../ts/index.js';
import { compare, loadConvFixtures, loadConvkit, type Convkit } from './helpers.js';

const fixtures = loadConvFixtures();

describe.each(['wasm-simd', 'wasm', 'js'] as const)('explicit algorithms on %s match PyTorch', (kind) => {
  let ck: Convkit;
  beforeAll(async () => {
    ck = await loadConvkit(kind);
  });

  it.each(['direct', 'im2col'] as const)('%s serves every fixture', (algorithm) => {
    const failures = fixtures.flatMap((f) => {
      const options = { ...f.options, algorithm, ...(f.bias ? { bias: f.bias } : {}) };
      const got = (ck[f.op] as (...a: unknown[]) => Tensor)(f.x, f.weight, options);
      const { detail } = compare(got, f.expected);
      return detail === 'ok' ? [] : [`${f.name}: ${detail}`];
    });
    expect(fixtures.length).toBeGreaterThanOrEqual(200);
    expect(failures).toEqual([]);
  });
});
