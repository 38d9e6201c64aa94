// The wasm backend's cache of prepared convolution kernels: reuse by weight identity, a weight
// edited in place is prepared again, bounds, clearing; and calls through it stay correct.
import { describe, expect, it } from 'vitest';
import { KernelCache } from '../ts/backends/wasm/kernel-cache.js';
import { compare, suitePool } from './helpers.js';

class FakeKernel {
  freed = false;
  constructor(readonly id: number, readonly bytes = 100) {}
  free() {
    this.freed = true;
  }
  retainedBytes() {
    return this.bytes;
  }
}

function counting(bytes = 100) {
  let made = 0;
  return { prepare: () => new FakeKernel(made++, bytes), made: () => made };
}

describe('KernelCache', () => {
  it('reuses a kernel for the same weight and signature, and prepares anew otherwise', () => {
    const cache = new KernelCache<FakeKernel>();
    const { prepare, made } = counting();
    const w = new Float32Array([1, 2, 3]);
    const first = cache.get(w, undefined, 'a', prepare);
    expect(cache.get(w, undefined, 'a', prepare)).toBe(first);
    expect(made()).toBe(1);
    // Same contents in another array is another weight (identity); another signature too.
    cache.get(w.slice(), undefined, 'a', prepare);
    cache.get(w, undefined, 'b', prepare);
    expect(made()).toBe(3);
    expect(cache.size).toBe(3);
  });

  it('prepares again when the weight was edited in place, freeing the stale kernel', () => {
    const cache = new KernelCache<FakeKernel>();
    const { prepare, made } = counting();
    const w = new Float32Array([1, 2, 3]);
    const stale = cache.get(w, undefined, 'a', prepare);
    w[1] = -2;
    const fresh = cache.get(w, undefined, 'a', prepare);
    expect(fresh).not.toBe(stale);
    expect(stale.freed).toBe(true);
    expect(made()).toBe(2);
    expect(cache.size).toBe(1);
    // -0 and 0 are different weights.
    w[0] = 0;
    cache.get(w, undefined, 'a', prepare);
    w[0] = -0;
    cache.get(w, undefined, 'a', prepare);
    expect(made()).toBe(4);
  });

  it('finds posted copies by their key', () => {
    const cache = new KernelCache<FakeKernel>();
    const { prepare, made } = counting();
    const w = new Float32Array([4, 5]);
    const k = cache.get(w, '7/0', 's', prepare);
    expect(cache.get(w.slice(), '7/0', 's', prepare)).toBe(k);
    expect(made()).toBe(1);
  });

  it('evicts the least recently used beyond its entry and byte bounds', () => {
    const cache = new KernelCache<FakeKernel>(3, 1000);
    const { prepare } = counting();
    const ws = Array.from({ length: 4 }, (_, i) => new Float32Array([i]));
    const kernels = ws.slice(0, 3).map((w) => cache.get(w, undefined, 's', prepare));
    cache.get(ws[0], undefined, 's', prepare); // 0 is now the most recent
    cache.get(ws[3], undefined, 's', prepare);
    expect(cache.size).toBe(3);
    expect(kernels.map((k) => k.freed)).toEqual([false, true, false]);
    // One entry larger than the byte bound stays (the newest always does), evicting the rest.
    const big = cache.get(new Float32Array([9]), undefined, 's', counting(5000).prepare);
    expect(cache.size).toBe(1);
    expect(big.freed).toBe(false);
    cache.clear();
    expect(big.freed).toBe(true);
    expect(cache.size).toBe(0);
  });
});

describe('cached convolutions', () => {
  const env = suitePool('wasm-simd');
  const x = { data: Float32Array.from({ length: 2 * 16 * 12 * 12 }, (_, i) => Math.sin(i)), shape: [2, 16, 12, 12] };
  const weight = () => ({ data: Float32Array.from({ length: 16 * 16 * 9 }, (_, i) => Math.cos(i) / 12), shape: [16, 16, 3, 3] });

  it('a weight edited in place between calls gives the new result on every algorithm', async () => {
    const { ck } = env;
    for (const algorithm of ['im2col', 'winograd', 'direct', 'auto'] as const) {
      const w = weight();
      const opts = { padding: 1, algorithm };
      ck.conv2d(x, w, opts);
      w.data[5] += 1;
      w.data[200] = -w.data[200];
      const want = ck.conv2d(x, w, { padding: 1, backend: 'js' });
      expect(compare(ck.conv2d(x, w, opts), want).detail, algorithm).toBe('ok');
      // Another batch size reuses the kernel and stays right.
      const single = { data: x.data.slice(0, 16 * 144), shape: [1, 16, 12, 12] };
      expect(compare(ck.conv2d(single, w, opts), ck.conv2d(single, w, { padding: 1, backend: 'js' })).detail).toBe('ok');
    }
    ck.clearCache();
    expect(ck.backendInfo().backend).toBe('wasm-simd');
    const w = weight();
    expect(compare(ck.conv2d(x, w, { padding: 1 }), ck.conv2d(x, w, { padding: 1, backend: 'js' })).detail).toBe('ok');
  });

  it('the pool reuses kernels across calls, sees in-place edits, and clears its workers', async () => {
    const { ck, pool } = env;
    const w = weight();
    const big = { data: Float32Array.from({ length: 16 * 40 * 40 }, (_, i) => Math.sin(i / 3)), shape: [1, 16, 40, 40] };
    const first = await pool.conv2d(big, w, { padding: 1 });
    expect(compare(await pool.conv2d(big, w, { padding: 1 }), first).detail).toBe('ok');
    w.data[0] += 2;
    expect(compare(await pool.conv2d(big, w, { padding: 1 }), ck.conv2d(big, w, { padding: 1, backend: 'js' })).detail).toBe('ok');
    await pool.clearCache();
    expect(compare(await pool.conv2d(big, w, { padding: 1 }), ck.conv2d(big, w, { padding: 1, backend: 'js' })).detail).toBe('ok');
  });
});
