// Every op's backward against PyTorch autograd (test/fixtures/generate.py, float64 autograd on the
// same float32 inputs), on every backend and in the pool.
import { expect, it } from 'vitest';
import type { Tensor } from '../ts/index.js';
import { callOp, compareGradients, fixtureSuites, gradFixtureArgs, loadGradFixtures } from './helpers.js';

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

fixtureSuites(fixtures, (lib, f) => callOp(lib, f.op, gradFixtureArgs(f)), (f, result) => compareGradients(f, result as Grads));
