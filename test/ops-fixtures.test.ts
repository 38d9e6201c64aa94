// Transposed convolutions, every pooling op (with PyTorch's indices) and the composites against
// PyTorch fixtures (test/fixtures/generate.py), on every backend and in the pool.
import { expect, it } from 'vitest';
import type { Tensor } from '../ts/index.js';
import { callOp, compare, fixtureArgs, fixtureSuites, loadOpFixtures, type OpFixture } from './helpers.js';

// Max and min pooling without indices take another path (separable passes), so every fixture with
// indices also runs without them, checked on its values.
const fixtures = loadOpFixtures().flatMap((f) => {
  if (!f.indices) return [f];
  const { returnIndices, ...options } = f.options;
  return [f, { ...f, name: `${f.name} (values only)`, options, indices: undefined }];
});

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

fixtureSuites(fixtures, (lib, f) => callOp(lib, f.op, fixtureArgs(f)), check);
