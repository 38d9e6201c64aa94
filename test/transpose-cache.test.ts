// The wasm backend prepares a transposed convolution once per weight, in the conv kernels' cache:
// repeated calls reuse the kernel (any batch size), a weight edited in place is prepared again,
// and clearCache frees it.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { Tensor } from '../ts/index.js';
import { normalizeConvTranspose } from '../ts/api/transpose-options.js';
import { createWasmBackend } from '../ts/backends/wasm/index.js';
import { KernelCache, type CachedKernel } from '../ts/backends/wasm/kernel-cache.js';
import { compare, DIST, loadConvkit, type Convkit } from './helpers.js';

/** Counts the kernels the backend's cache prepares and keeps hold of that cache. */
function watchCache() {
  const get = KernelCache.prototype.get;
  const seen = { prepared: 0, cache: undefined as KernelCache<CachedKernel> | undefined };
  vi.spyOn(KernelCache.prototype, 'get').mockImplementation(function (this: KernelCache<CachedKernel>, weight, signature, prepare) {
    seen.cache = this;
    return get.call(this, weight, signature, () => {
      seen.prepared++;
      return prepare();
    });
  });
  return seen;
}

const tensor = (shape: number[], f: (i: number) => number): Tensor => ({
  data: Float32Array.from({ length: shape.reduce((a, b) => a * b) }, (_, i) => f(i)),
  shape,
});

describe('cached transposed convolutions', () => {
  let js: Convkit;
  beforeAll(async () => {
    js = await loadConvkit('js');
  });

  it('reuse one kernel per weight across calls and batch sizes, prepare again after an in-place edit, and clear', async () => {
    const seen = watchCache();
    const backend = await createWasmBackend('simd', readFileSync(new URL('convkit-simd.wasm', DIST)));
    const w = tensor([6, 4, 4, 4], (i) => Math.cos(i) / 8);
    const bias = Float32Array.from({ length: 8 }, (_, i) => i / 4 - 1);
    const opts = { stride: 2, padding: 1, groups: 2, bias };
    const run = (batch: number) => {
      const x = tensor([batch, 6, 7, 5], (i) => Math.sin(i + batch));
      const call = normalizeConvTranspose('convTranspose2d', 2, x, w, opts);
      const [input, weight, b] = call.arrays;
      const got = { data: backend.convTranspose(call.problem, input, weight, b), shape: call.problem.outputShape };
      expect(compare(got, js.convTranspose2d(x, w, opts)).detail, `batch ${batch}`).toBe('ok');
    };

    for (const batch of [1, 3, 2, 1]) run(batch);
    expect(seen.prepared).toBe(1);
    expect(seen.cache?.size).toBe(1);
    // A fresh copy with equal values is the same weight.
    w.data = w.data.slice();
    run(2);
    expect(seen.prepared).toBe(1);

    w.data[3] += 1;
    w.data[200] = -w.data[200];
    run(2);
    run(3);
    expect(seen.prepared).toBe(2);

    backend.clearCache?.();
    expect(seen.cache?.size).toBe(0);
    run(1);
    expect(seen.prepared).toBe(3);
    vi.restoreAllMocks();
  });

  it('run through the public API stay right after an in-place edit and clearCache', async () => {
    const ck = await loadConvkit('wasm-simd');
    const x = tensor([2, 8, 9, 7], (i) => Math.sin(i / 3));
    const w = tensor([8, 3, 3, 3], (i) => Math.cos(i) / 6);
    const opts = { stride: [3, 2], padding: 1, outputPadding: [2, 0], dilation: [1, 2] };
    ck.convTranspose2d(x, w, opts);
    w.data[10] += 0.5;
    expect(compare(ck.convTranspose2d(x, w, opts), js.convTranspose2d(x, w, opts)).detail).toBe('ok');
    ck.clearCache();
    expect(compare(ck.convTranspose2d(x, w, opts), js.convTranspose2d(x, w, opts)).detail).toBe('ok');
  });
});
