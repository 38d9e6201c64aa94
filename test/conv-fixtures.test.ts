// conv1d/2d/3d against PyTorch fixtures (test/fixtures/generate.py) on every backend and the pool.
import { expect, it } from 'vitest';
import type { Tensor } from '../ts/index.js';
import { callOp, compare, fixtureSuites, loadConvFixtures } from './helpers.js';

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

fixtureSuites(
  fixtures,
  (lib, f) => callOp(lib, f.op, [f.x, f.weight, options(f)]),
  (f, result) => compare(result as Tensor, f.expected).detail,
  ['wasm-simd', 'js'],
);
