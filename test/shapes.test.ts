// Shape and cost functions against the formulas of the seed articles and PyTorch's output sizes.
import { describe, expect, it } from 'vitest';
import {
  ConvkitError,
  convOutputShape,
  flops,
  macs,
  outputSize,
  paramCount,
  receptiveField,
  transposeOutputSize,
} from '../ts/index.js';
import { loadConvFixtures, loadOpFixtures } from './helpers.js';

describe('costs', () => {
  it('a 3x3 128->256 layer on 56x56 is about 0.92 G MACs', () => {
    const m = macs('conv2d', [1, 128, 56, 56], [256, 128, 3, 3], { padding: 1 });
    expect(m).toBe(56 * 56 * 256 * 128 * 9);
    expect(m / 1e9).toBeCloseTo(0.92, 2);
    expect(flops('conv2d', [1, 128, 56, 56], [256, 128, 3, 3], { padding: 1 })).toBe(2 * m);
  });

  it('depthwise separable costs 1/N + 1/k^2 of a standard convolution (MobileNet)', () => {
    const [c, n, k, size] = [64, 128, 3, 28];
    const standard = macs('conv2d', [1, c, size, size], [n, c, k, k], { padding: 1 });
    const separable =
      macs('depthwiseConv2d', [1, c, size, size], [c, 1, k, k], { padding: 1 }) + macs('pointwiseConv2d', [1, c, size, size], [n, c, 1, 1]);
    expect(separable / standard).toBeCloseTo(1 / n + 1 / (k * k), 10);
  });

  it('transposed convolution counts useful MACs (input elements x outputs each feeds)', () => {
    expect(macs('convTranspose2d', [1, 64, 32, 32], [64, 32, 4, 4], { stride: 2, padding: 1 })).toBe(32 * 32 * 64 * 32 * 16);
  });

  it('paramCount counts weights and biases', () => {
    expect(paramCount([256, 128, 3, 3], { bias: true })).toBe(256 * 128 * 9 + 256);
    expect(paramCount([64, 1, 3, 3])).toBe(576);
  });
});

describe('output sizes', () => {
  it('outputSize follows floor((i + 2p - d(k-1) - 1)/s) + 1 and every padding form', () => {
    expect(outputSize(224, 7, { stride: 2, padding: 3 })).toBe(112);
    expect(outputSize(56, 3, { padding: 'same', stride: 2 })).toBe(28);
    expect(outputSize(10, 3, { padding: 'full' })).toBe(12);
    expect(outputSize(10, 3, { padding: 'causal', dilation: 2 })).toBe(10);
    expect(outputSize(10, 3, { padding: [0, 2] })).toBe(10);
    expect(() => outputSize(2, 5)).toThrow(ConvkitError);
  });

  it('transposeOutputSize follows (i-1)s - 2p + d(k-1) + a + 1', () => {
    expect(transposeOutputSize(32, 4, { stride: 2, padding: 1 })).toBe(64);
    expect(transposeOutputSize(5, 3, { stride: 2, padding: 1, outputPadding: 1 })).toBe(10);
  });

  it('convOutputShape agrees with every PyTorch fixture', () => {
    for (const f of loadConvFixtures()) {
      expect(convOutputShape(f.op, f.x.shape, f.weight.shape, f.options), f.name).toEqual(f.expected.shape);
    }
    for (const f of loadOpFixtures().filter((f) => /^(conv|maxPool|minPool|avgPool|depthwise|pointwise)/.test(f.op))) {
      const weight = /^(maxPool|minPool|avgPool)/.test(f.op) ? null : f.args[1].shape;
      const { bias, ...options } = { ...f.options, ...f.tensorOptions } as Record<string, unknown>;
      void bias;
      expect(convOutputShape(f.op, f.args[0].shape, weight, options), f.name).toEqual(f.expected.shape);
    }
  });
});

describe('receptiveField', () => {
  it('grows by (k-1) * jump per layer and multiplies the jump by the stride', () => {
    // Two 3x3 convs see 5x5; three see 7x7 (VGG); a stride-2 layer doubles later growth.
    expect(receptiveField([{ kernel: 3 }, { kernel: 3 }, { kernel: 3 }]).map((l) => l.size)).toEqual([3, 5, 7]);
    const stack = receptiveField([{ kernel: 7, stride: 2, padding: 3 }, { kernel: 3, stride: 2, padding: 1 }, { kernel: 3, dilation: 2 }]);
    expect(stack).toEqual([
      { size: 7, jump: 2, start: 0 },
      { size: 11, jump: 4, start: 0 },
      { size: 27, jump: 4, start: 8 },
    ]);
    expect(() => receptiveField([{ kernel: 0 }])).toThrow(ConvkitError);
  });
});
