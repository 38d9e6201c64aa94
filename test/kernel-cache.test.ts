// The wasm backend's cache of prepared convolution kernels: reuse by weight contents, a weight
// edited in place is prepared again, bounds, clearing; and calls through it stay correct.
import { describe, expect, it } from 'vitest';
import { KernelCache, sameBits } from '../ts/backends/wasm/kernel-cache.js';
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
  it('reuses a kernel for equal weights and the same signature, and prepares anew otherwise', () => {
    const cache = new KernelCache<FakeKernel>();
    const { prepare, made } = counting();
    const w = new Float32Array([1, 2, 3]);
    const first = cache.get(w, 'a', prepare);
    expect(cache.get(w, 'a', prepare)).toBe(first);
    // A fresh copy with equal values (what a pool worker receives) is the same weight.
    expect(cache.get(w.slice(), 'a', prepare)).toBe(first);
    expect(made()).toBe(1);
    cache.get(w, 'b', prepare);
    cache.get(new Float32Array([1, 2, 3, 4]), 'a', prepare);
    expect(made()).toBe(3);
    expect(cache.size).toBe(3);
  });

  it('prepares again when the weight was edited in place', () => {
    const cache = new KernelCache<FakeKernel>();
    const { prepare, made } = counting();
    const w = new Float32Array([1, 2, 3]);
    const before = cache.get(w, 'a', prepare);
    w[1] = -2;
    const after = cache.get(w, 'a', prepare);
    expect(after).not.toBe(before);
    expect(made()).toBe(2);
    // Restoring the old values finds the old kernel again.
    w[1] = 2;
    expect(cache.get(w, 'a', prepare)).toBe(before);
    // -0 and 0 are different weights (bitwise), and so are two NaN payloads; a NaN equals itself.
    w[0] = 0;
    const zero = cache.get(w, 'a', prepare);
    w[0] = -0;
    expect(cache.get(w, 'a', prepare)).not.toBe(zero);
    w[0] = NaN;
    const nan = cache.get(w, 'a', prepare);
    expect(cache.get(w, 'a', prepare)).toBe(nan);
  });

  it('evicts the least recently used beyond its entry and byte bounds', () => {
    const cache = new KernelCache<FakeKernel>(3, 1000);
    const { prepare } = counting();
    const ws = Array.from({ length: 4 }, (_, i) => new Float32Array([i]));
    const kernels = ws.slice(0, 3).map((w) => cache.get(w, 's', prepare));
    cache.get(ws[0], 's', prepare); // 0 is now the most recent
    cache.get(ws[3], 's', prepare);
    expect(cache.size).toBe(3);
    expect(kernels.map((k) => k.freed)).toEqual([false, true, false]);
    // One entry larger than the byte bound stays (the newest always does), evicting the rest.
    const big = cache.get(new Float32Array([9]), 's', counting(5000).prepare);
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

describe('sameBits', () => {
  it('finds a differing bit at any position, in the 8-word blocks and the tail, at any offset', () => {
    const base = Float32Array.from({ length: 37 }, (_, i) => i * 0.25 - 3);
    expect(sameBits(base, base.slice())).toBe(true);
    expect(sameBits(base, base.subarray(0, 36))).toBe(false);
    for (let at = 0; at < base.length; at++) {
      const other = base.slice();
      other[at] = -other[at] || -0; // a sign flip, also of 0
      expect(sameBits(base, other), `position ${at}`).toBe(false);
      const bits = new Int32Array(other.buffer);
      other.set(base);
      bits[at] ^= 1; // the lowest mantissa bit
      expect(sameBits(base, other), `low bit at ${at}`).toBe(false);
    }
    const nan = Float32Array.of(NaN, 1, 2, 3, 4, 5, 6, 7, NaN);
    expect(sameBits(nan, nan.slice())).toBe(true);
    const padded = new Float32Array(40);
    padded.set(base, 3);
    expect(sameBits(base, padded.subarray(3, 40))).toBe(true);
  });

  it('tells 0 from -0 and compares NaNs and their neighbours exactly, aligned or not', () => {
    // Pairs of words are compared as float64s: 0 and -0 compare equal there, a NaN never does, and
    // a NaN high word makes a float64 NaN whatever the low word holds.
    const base = Float32Array.from({ length: 45 }, (_, i) => [0, 0, NaN, Infinity, -0][i % 5]);
    for (const offset of [0, 1, 2]) {
      const left = new Float32Array(base.length + 2);
      left.set(base, offset);
      const a = left.subarray(offset, offset + base.length);
      expect(sameBits(a, base.slice())).toBe(true);
      for (let at = 0; at < base.length; at++) {
        const other = base.slice();
        other[at] = Object.is(other[at], 0) ? -0 : Object.is(other[at], -0) ? 0 : Number.isNaN(other[at]) ? 2 : -other[at];
        expect(sameBits(a, other), `offset ${offset}, position ${at}`).toBe(false);
      }
    }
  });
});
