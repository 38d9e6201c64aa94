// Long runs, faults and load: wasm memory stays bounded, the pool leaks no listeners or workers,
// a dying worker costs only the call that killed it, aborts reach queued and running calls, and
// 200 concurrent calls all come back right.
import { getEventListeners } from 'node:events';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tensor } from '../ts/index.js';
import { loadConvkit, suitePool, tensor, type Convkit, type TestPool } from './helpers.js';

const same = (a: Tensor, b: Tensor) => a.shape.join() === b.shape.join() && a.data.every((v, i) => Object.is(v, b.data[i]));

describe('wasm memory', () => {
  it('stays bounded over 10,000 calls of mixed ops and sizes', async () => {
    const ck = await loadConvkit('wasm-simd');
    const sizes = [8, 16, 24, 32];
    const calls = sizes.flatMap((s, i) => {
      const x = tensor([1 + (i % 2), 8, s, s], i);
      const w = tensor([8, 8, 3, 3], 10 + i);
      const dy = tensor([1 + (i % 2), 8, s, s], 20 + i);
      const offset = tensor([1 + (i % 2), 18, s, s], 30 + i);
      return [
        () => ck.conv2d(x, w, { padding: 1, paddingMode: 'reflect' }),
        () => ck.conv2dBackward(x, w, dy, { padding: 1 }),
        () => ck.convTranspose2d(x, w, { stride: 2 }),
        () => ck.maxPool2d(x, { kernelSize: 3, stride: 2, returnIndices: true }),
        () => ck.deformConv2d(x, offset, w, { padding: 1 }),
        () => ck.conv1d({ data: x.data, shape: [x.shape[0], 8, s * s] }, tensor([4, 8, 5], 40), { padding: 'same' }),
      ];
    });
    const order = Array.from({ length: 10_000 }, (_, i) => (i * 7919) % calls.length);
    // Two passes over every call shape reach the high-water mark (the first prepares the cached
    // convolution kernels, whose weights and scratch then stay); the rest must stay under it.
    for (let pass = 0; pass < 2; pass++) for (const call of calls) call();
    const afterWarmup = ck.backendInfo().memoryBytes!;
    let highWater = afterWarmup;
    for (const i of order) {
      calls[i]();
      highWater = Math.max(highWater, ck.backendInfo().memoryBytes!);
    }
    console.log(`wasm memory: ${afterWarmup / 2 ** 20} MiB after warm-up, ${highWater / 2 ** 20} MiB high-water after 10,000 calls`);
    expect(highWater).toBe(afterWarmup);
    expect(highWater).toBeLessThan(64 * 2 ** 20);
  }, 120_000);
});

describe('pool under load', () => {
  const env = suitePool();

  it('leaks no listeners, workers or pending calls over 10,000 calls', async () => {
    const controller = new AbortController();
    const x = tensor([1, 2, 8, 8], 1);
    const w = tensor([2, 2, 3, 3], 2);
    const want = env.ck.conv2d(x, w);
    await env.pool.conv2d(x, w);
    const listeners = env.pool.stats().listeners;
    for (let batch = 0; batch < 100; batch++) {
      const results = await Promise.all(Array.from({ length: 100 }, () => env.pool.conv2d(x, w, { signal: controller.signal })));
      expect(results.every((r) => same(r, want))).toBe(true);
    }
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(env.pool.stats()).toEqual({ workers: 2, restarts: 0, inFlight: 0, listeners });
  }, 120_000);

  it('200 concurrent calls of mixed ops all return the right results', async () => {
    const jobs = Array.from({ length: 200 }, (_, i) => {
      const x = tensor([1 + (i % 3), 4, 12 + (i % 5), 10], 100 + i);
      switch (i % 4) {
        case 0: {
          const w = tensor([6, 4, 3, 3], i);
          return { want: env.ck.conv2d(x, w, { padding: 1 }), got: env.pool.conv2d(x, w, { padding: 1 }) };
        }
        case 1:
          return { want: env.ck.avgPool2d(x, { kernelSize: 2, ceilMode: true }), got: env.pool.avgPool2d(x, { kernelSize: 2, ceilMode: true }) };
        case 2: {
          const w = tensor([4, 3, 2, 2], i);
          return { want: env.ck.convTranspose2d(x, w, { stride: 2 }), got: env.pool.convTranspose2d(x, w, { stride: 2 }) };
        }
        default: {
          const w = tensor([5, 4, 3, 3], i);
          const dy = tensor([x.shape[0], 5, x.shape[2] - 2, 8], i);
          const want = env.ck.conv2dBackward(x, w, dy);
          return { want: want.gradWeight, got: env.pool.conv2dBackward(x, w, dy).then((g) => g.gradWeight) };
        }
      }
    });
    const got = await Promise.all(jobs.map((j) => j.got));
    expect(got.filter((g, i) => !same(g as Tensor, jobs[i].want as Tensor))).toEqual([]);
    expect(env.pool.stats().inFlight).toBe(0);
  });

  it('an abort rejects queued and running calls with ABORTED; the env.pool then works', async () => {
    const x = tensor([1, 32, 96, 96], 3);
    const w = tensor([32, 32, 3, 3], 4);
    const controller = new AbortController();
    const calls = Array.from({ length: 6 }, () => env.pool.conv2d(x, w, { padding: 1, signal: controller.signal, backend: 'js' }));
    setTimeout(() => controller.abort(), 20);
    const settled = await Promise.allSettled(calls);
    expect(settled.map((s) => (s.status === 'rejected' ? (s.reason as { code: string }).code : 'fulfilled'))).toEqual(Array(6).fill('ABORTED'));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    const small = tensor([1, 2, 8, 8]);
    const w2 = tensor([2, 2, 3, 3]);
    expect(same(await env.pool.conv2d(small, w2), env.ck.conv2d(small, w2))).toBe(true);
    // The ended workers' replacements come up (one per ended worker, however many calls it had).
    await expect.poll(() => env.pool.stats().workers, { timeout: 10_000 }).toBe(2);
    expect(env.pool.stats().restarts).toBeLessThanOrEqual(2);
  });

  it('transfer: true moves the input or leaves it intact, and never changes it', async () => {
    const x = tensor([2, 4, 16, 16], 5);
    const w = tensor([4, 4, 3, 3], 6);
    const copy = x.data.slice();
    const want = env.ck.conv2d({ data: copy, shape: x.shape }, w);
    const got = await env.pool.conv2d(x, w, { transfer: true });
    expect(same(got, want)).toBe(true);
    // Either moved (detached, length 0) or untouched.
    expect(x.data.length === 0 || x.data.every((v, i) => v === copy[i])).toBe(true);
    expect(w.data.length === 0 || w.data.length === 144).toBe(true);
  });
});

describe('a worker that dies mid-call', () => {
  let ck: Convkit;
  let pool: TestPool;
  beforeAll(async () => {
    const scratch = fileURLToPath(new URL('./.scratch/', import.meta.url));
    mkdirSync(scratch, { recursive: true });
    await build({
      entryPoints: [fileURLToPath(new URL('./faulty-worker.ts', import.meta.url))],
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: `${scratch}faulty-worker.mjs`,
      logLevel: 'silent',
    });
    ck = await loadConvkit('js');
    pool = await ck.createPool({ workers: 2, workerUrl: new URL('./.scratch/faulty-worker.mjs', import.meta.url) });
  });
  afterAll(() => pool.terminate());

  it('rejects the call that killed it with WORKER_FAILED; every other call in flight completes correctly', async () => {
    const w = tensor([4, 3, 3, 3], 1);
    const inputs = Array.from({ length: 20 }, (_, i) => tensor([1, 3, 24, 24], 50 + i));
    inputs[7].data[0] = 12345; // the faulty worker exits on this value
    const settled = await Promise.allSettled(inputs.map((x) => pool.conv2d(x, w, { padding: 1 })));
    const poisoned = settled[7];
    expect(poisoned.status).toBe('rejected');
    expect((poisoned as PromiseRejectedResult).reason).toMatchObject({ name: 'ConvkitError', code: 'WORKER_FAILED' });
    settled.forEach((s, i) => {
      if (i === 7) return;
      expect(s.status, `call ${i}`).toBe('fulfilled');
      expect(same((s as PromiseFulfilledResult<Tensor>).value, ck.conv2d(inputs[i], w, { padding: 1 })), `call ${i}`).toBe(true);
    });
    // Only the poisoned call's worker died (the calls queued behind it were sent again); it was replaced.
    const x = tensor([1, 3, 24, 24], 99);
    expect(same(await pool.conv2d(x, w, { padding: 1 }), ck.conv2d(x, w, { padding: 1 }))).toBe(true);
    expect(pool.stats()).toMatchObject({ workers: 2, restarts: 1, inFlight: 0 });
  });
});
