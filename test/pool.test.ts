// The worker pool: same numbers as a direct call however a call is split; aborts, crashes and a
// terminated pool reject with ConvkitErrors instead of hanging.
import { describe, expect, it } from 'vitest';
import { BufferStash } from '../ts/pool/buffer-stash.js';
import { callWork, splitCall, workKind } from '../ts/pool/split.js';
import { SPLIT_MIN_WORK } from '../ts/pool/split-calibration.js';
import type { OpCall } from '../ts/api/call.js';
import { normalizePool } from '../ts/api/pool-options.js';
import { conv2dProblem, DIST, loadConvkit, suitePool, tensor, type TestPool } from './helpers.js';

function problem(inputShape: number[], weightShape: number[], groups = 1): OpCall {
  return { op: 'conv2d', kind: 'conv', problem: conv2dProblem(inputShape, weightShape, groups), arrays: [], activation: {} as never, backend: undefined };
}

/** A pool call's result and the number of pieces it was cut into (the pieces it put in flight
 * when it started, on an idle pool). */
async function piecesOf<T>(pool: TestPool, start: () => Promise<T>): Promise<[number, T]> {
  const before = pool.stats().inFlight;
  const call = start();
  const pieces = pool.stats().inFlight - before;
  return [pieces, await call];
}

describe('splitCall', () => {
  it('splits by batch when the batch covers every worker', () => {
    const pieces = splitCall(problem([4, 16, 32, 32], [16, 16, 3, 3]), 2, 0);
    expect(pieces.map((p) => p.batch)).toEqual([[0, 2], [2, 4]]);
    expect(pieces.every((p) => p.outChannels[1] === 16)).toBe(true);
  });
  it('splits output rows for one large image (and for a batch that does not divide)', () => {
    for (const [xs, parts] of [[[1, 16, 32, 32], 2], [[3, 16, 32, 32], 2], [[1, 16, 64, 64], 3]] as const) {
      const pieces = splitCall(problem([...xs], [33, 16, 3, 3]), parts, 0);
      const rows = xs[2];
      expect(pieces.map((p) => p.rows)).toEqual(Array.from({ length: parts }, (_, i) => [Math.floor((rows * i) / parts), Math.floor((rows * (i + 1)) / parts)]));
      expect(pieces.every((p) => p.batch[1] === xs[0] && p.outChannels[1] === 33)).toBe(true);
    }
  });
  it('splits output channels for one image with few rows', () => {
    const pieces = splitCall(problem([1, 64, 7, 12], [33, 64, 3, 3]), 2, 0);
    expect(pieces.map((p) => p.outChannels)).toEqual([[0, 16], [16, 33]]);
    expect(pieces.every((p) => p.inChannels[1] === 64 && p.groups === 1 && p.rows === undefined)).toBe(true);
  });
  it('splits whole groups for grouped convolutions', () => {
    const pieces = splitCall(problem([1, 64, 23, 23], [256, 1, 3, 3], 64), 3, 0);
    expect(pieces.map((p) => [p.inChannels, p.outChannels, p.groups])).toEqual([
      [[0, 21], [0, 84], 21],
      [[21, 42], [84, 168], 21],
      [[42, 64], [168, 256], 22],
    ]);
  });
  it('keeps a call whole below the calibrated work of its kind', () => {
    const depthwise = problem([1, 64, 56, 56], [64, 1, 3, 3], 64);
    const pooling = normalizePool('maxPool2d', 'max', 2, tensor([1, 64, 112, 112], 1), { kernelSize: 3, stride: 2, padding: 1 });
    // A single-channel image (groups 1) and a depthwise 5x5 compute enough per byte to split.
    const singleChannel = problem([1, 1, 256, 256], [1, 1, 15, 15]);
    const depthwise5x5 = problem([1, 64, 56, 56], [64, 1, 5, 5], 64);
    const calls = [problem([4, 16, 32, 32], [16, 16, 3, 3]), problem([1, 16, 64, 64], [33, 16, 3, 3]), depthwise, pooling, singleChannel, depthwise5x5];
    expect(calls.map(workKind)).toEqual(['gemm', 'gemm', 'perChannel', 'pool', 'gemm', 'gemm']);
    for (const call of calls) {
      expect(splitCall(call, 2, callWork(call) + 1)).toHaveLength(1);
      expect(splitCall(call, 2, callWork(call)).length).toBeGreaterThan(1);
      expect(splitCall(call, 2)).toEqual(splitCall(call, 2, SPLIT_MIN_WORK[workKind(call)]));
    }
    expect(splitCall(problem([2, 2, 8, 8], [2, 2, 3, 3]), 4)).toHaveLength(1);
  });
});

describe('pool', () => {
  const env = suitePool();
  // Splits every call it can, so that small tensors take the split paths.
  const splitting = suitePool('wasm-simd', { minWorkToSplit: 0 });

  it('splits a call as splitCall says: by the calibrated work by default, everything with minWorkToSplit 0', async () => {
    const x = tensor([1, 16, 64, 64], 1);
    const w = tensor([33, 16, 3, 3], 2);
    const expected = splitCall(problem([1, 16, 64, 64], [33, 16, 3, 3]), 2).length;
    expect((await piecesOf(env.pool, () => env.pool.conv2d(x, w, { padding: 1 })))[0]).toBe(expected);
    expect((await piecesOf(splitting.pool, () => splitting.pool.conv2d(x, w, { padding: 1 })))[0]).toBe(2);
  });

  it.each([
    ['batch split', [4, 8, 24, 24], [16, 8, 3, 3], { padding: 1, bias: new Float32Array(16).fill(0.5) }],
    ['channel split', [1, 64, 24, 24], [48, 64, 3, 3], { padding: 'same', stride: 2 }],
    ['group split', [1, 512, 14, 14], [1024, 1, 3, 3], { groups: 512, padding: 1, paddingMode: 'reflect' }],
    ['row split', [1, 16, 40, 40], [24, 16, 3, 3], { padding: 'same', stride: 2 }],
    ['row split, asymmetric padding and dilation', [1, 32, 64, 64], [64, 1, 3, 3], { groups: 32, padding: [[3, 1], [2, 2]], dilation: 2, paddingMode: 'reflect' }],
    ['row split, odd batch', [3, 8, 48, 48], [8, 8, 5, 5], { padding: 4, paddingMode: 'circular', stride: [3, 1] }],
    ['channels-last', [1, 40, 40, 16], [24, 16, 3, 3], { layout: 'channels-last', padding: 1 }],
    ['unbatched', [16, 40, 40], [24, 16, 5, 5], { padding: 2, paddingMode: 'circular' }],
  ] as const)('%s gives the same numbers as a direct call', async (_, xs, ws, opts) => {
    const x = tensor([...xs], 3);
    const w = tensor([...ws], 4);
    const direct = env.ck.conv2d(x, w, { ...opts });
    const [pieces, pooled] = await piecesOf(splitting.pool, () => splitting.pool.conv2d(x, w, { ...opts }));
    expect(pieces).toBe(2);
    expect(pooled.shape).toEqual(direct.shape);
    expect(Array.from(pooled.data)).toEqual(Array.from(direct.data));
  });

  it.each([
    ['conv2dBackward, batch split (weight and bias gradients summed)', 'conv2dBackward', () => {
      const x = tensor([4, 8, 24, 24], 5);
      return [x, tensor([16, 8, 3, 3], 6), tensor([4, 16, 24, 24], 7), { padding: 1, paddingMode: 'reflect', bias: new Float32Array(16) }];
    }],
    ['convTranspose2dBackward, batch split', 'convTranspose2dBackward', () => [tensor([3, 16, 16, 16], 8), tensor([16, 8, 4, 4], 9), tensor([3, 8, 32, 32], 10), { stride: 2, padding: 1 }]],
    ['maxPool2dBackward, channel split', 'maxPool2dBackward', () => [tensor([1, 64, 64, 64], 11), tensor([1, 64, 32, 32], 12), { kernelSize: 3, stride: 2, padding: 1 }]],
    ['deformConv2dBackward, batch split', 'deformConv2dBackward', () => [tensor([2, 8, 20, 20], 13), tensor([2, 18, 20, 20], 14), tensor([16, 8, 3, 3], 15), tensor([2, 16, 20, 20], 16), { padding: 1, mask: tensor([2, 9, 20, 20], 17) }]],
  ] as const)('%s gives the direct call\'s gradients', async (_, op, args) => {
    const a = args();
    const direct = (env.ck[op] as (...a: unknown[]) => Record<string, { data: Float32Array; shape: number[] }>)(...a);
    const call = splitting.pool[op] as (...a: unknown[]) => Promise<Record<string, { data: Float32Array; shape: number[] }>>;
    const [pieces, pooled] = await piecesOf(splitting.pool, () => call(...a));
    expect(pieces).toBe(2);
    expect(Object.keys(pooled).sort()).toEqual(Object.keys(direct).sort());
    for (const [name, want] of Object.entries(direct)) {
      expect(pooled[name].shape, name).toEqual(want.shape);
      // Summing per-piece partial sums changes the float32 rounding of parameter gradients only.
      const worst = want.data.reduce((m, w, i) => Math.max(m, Math.abs(pooled[name].data[i] - w) - 1e-4 * (1 + Math.abs(w))), -Infinity);
      expect(worst, name).toBeLessThanOrEqual(0);
    }
  });

  it.each([
    ['whole', 1],
    ['channel split', 2],
  ] as const)('maxPool2d with indices, %s, gives the direct call\'s output and indices', async (_, parts) => {
    const x = tensor([1, 8, 32, 32], 24);
    const opts = { kernelSize: 3, padding: 1, returnIndices: true };
    const direct = env.ck.maxPool2d(x, opts) as { output: { data: Float32Array }; indices: Int32Array };
    const pool = parts === 1 ? env.pool : splitting.pool;
    const [pieces, result] = await piecesOf(pool, () => pool.maxPool2d(x, opts));
    expect(pieces).toBe(parts);
    const pooled = result as { output: { data: Float32Array }; indices: Int32Array };
    expect(pooled.indices).toBeInstanceOf(Int32Array);
    expect(Array.from(pooled.indices)).toEqual(Array.from(direct.indices));
    expect(Array.from(pooled.output.data)).toEqual(Array.from(direct.output.data));
  });

  it('transfer: true on a call split across workers still computes the right result', async () => {
    const x = tensor([4, 8, 24, 24], 21);
    const w = tensor([16, 8, 3, 3], 22);
    const direct = env.ck.conv2d(x, w, { padding: 1 });
    const { pool } = splitting;
    const [pieces, pooled] = await piecesOf(pool, () => pool.conv2d(x, w, { padding: 1, transfer: true }));
    expect(pieces).toBe(2);
    expect(x.data.length).toBe(x.shape.reduce((a, b) => a * b)); // copied, not moved
    expect(Array.from(pooled.data)).toEqual(Array.from(direct.data));
    const dy = tensor([4, 16, 24, 24], 23);
    const grads = env.ck.conv2dBackward(x, w, dy, { padding: 1 });
    const pooledGrads = await pool.conv2dBackward(x, w, dy, { padding: 1, transfer: true });
    expect(Array.from(pooledGrads.gradInput.data)).toEqual(Array.from(grads.gradInput.data));
  });

  it('rejects a backward call with a wrong gradOutput, and keeps working', async () => {
    const x = tensor([1, 4, 6, 6], 18);
    const w = tensor([2, 4, 3, 3], 19);
    await expect(env.pool.conv2dBackward(x, w, tensor([1, 2, 6, 6], 20))).rejects.toMatchObject({ code: 'SHAPE_MISMATCH', message: expect.stringMatching(/^conv2dBackward: gradOutput/) });
    const grads = await env.pool.conv2dBackward(x, w, tensor([1, 2, 4, 4], 20));
    expect(grads.gradWeight.shape).toEqual([2, 4, 3, 3]);
  });

  it('transfer: true moves the input buffer and still computes the right result', async () => {
    const x = tensor([1, 4, 16, 16], 5);
    const w = tensor([4, 4, 3, 3], 6);
    const want = env.ck.conv2d(x, w);
    const got = await env.pool.conv2d(x, w, { transfer: true });
    expect(x.data.length).toBe(0); // detached
    expect(Array.from(got.data)).toEqual(Array.from(want.data));
  });

  it('rejects with ABORTED when aborted, and keeps working', async () => {
    const x = tensor([1, 64, 128, 128], 7);
    const w = tensor([64, 64, 3, 3], 8);
    const controller = new AbortController();
    const call = env.pool.conv2d(x, w, { padding: 1, signal: controller.signal });
    setTimeout(() => controller.abort(), 5);
    await expect(call).rejects.toMatchObject({ code: 'ABORTED' });
    const pre = new AbortController();
    pre.abort();
    await expect(env.pool.conv2d(x, w, { signal: pre.signal })).rejects.toMatchObject({ code: 'ABORTED' });
    const small = tensor([1, 2, 8, 8]);
    expect((await env.pool.conv2d(small, tensor([2, 2, 3, 3]))).shape).toEqual([1, 2, 6, 6]);
  });

  it('rejects every call after terminate()', async () => {
    const other = await env.ck.createPool({ workers: 1, workerUrl: new URL('worker.js', DIST), wasmBase: DIST });
    await other.terminate();
    await expect(other.conv2d(tensor([1, 1, 4, 4]), tensor([1, 1, 3, 3]))).rejects.toMatchObject({ name: 'ConvkitError' });
  });
});

describe('worker failures', () => {
  it('a worker that crashes rejects its call with WORKER_FAILED and is replaced', async () => {
    const ck = await loadConvkit('js');
    const pool = await ck.createPool({ workers: 1, workerUrl: new URL('./crashing-worker.mjs', import.meta.url) });
    const x = tensor([1, 1, 4, 4]);
    const w = tensor([1, 1, 3, 3]);
    await expect(pool.conv2d(x, w)).rejects.toMatchObject({ code: 'WORKER_FAILED' });
    // The replacement starts and fails the same way: a rejection again, never a hang.
    await expect(pool.conv2d(x, w)).rejects.toMatchObject({ code: 'WORKER_FAILED' });
    await pool.terminate();
  });

  it('a worker script that cannot load rejects createPool', async () => {
    const ck = await loadConvkit('js');
    await expect(ck.createPool({ workers: 1, workerUrl: new URL('./no-such-worker.js', import.meta.url) })).rejects.toMatchObject({
      code: 'WORKER_FAILED',
    });
  });

  it("rejects backend 'wasm' when the workers run JS", async () => {
    const ck = await loadConvkit('js');
    const pool = await ck.createPool({ workers: 1, workerUrl: new URL('worker.js', DIST), wasm: false });
    expect(pool.info.backend).toBe('js');
    await expect(pool.conv2d(tensor([1, 1, 4, 4]), tensor([1, 1, 3, 3]), { backend: 'wasm' })).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      message: expect.stringMatching(/^conv2d: backend 'wasm'/),
    });
    await pool.terminate();
  });

  it('rejects a bad worker count', async () => {
    const ck = await loadConvkit('js');
    await expect(ck.createPool({ workers: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('rejects a minWorkToSplit that is not a number >= 0, naming it', async () => {
    const ck = await loadConvkit('js');
    for (const bad of [-1, Number.NaN, '0']) {
      await expect(ck.createPool({ workers: 1, minWorkToSplit: bad } as never)).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/^createPool: minWorkToSplit must be a number >= 0, got /),
      });
    }
  });
  it('rejects a build flag that is not a boolean, naming it', async () => {
    const ck = await loadConvkit('js');
    await expect(ck.createPool({ workers: 1, relaxed: 1 } as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: 'createPool: relaxed must be true or false, got 1' });
  });
});

describe('recycled piece buffers', () => {
  const env = suitePool();
  const splitting = suitePool('wasm-simd', { minWorkToSplit: 0 });

  it('calls that reuse the buffers of earlier ones (zero-padded bands, results, copies) give the direct results', async () => {
    // The same sizes again and again, with inputs that change from call to call: every band, copy
    // and result buffer after the first call is one an earlier call filled.
    const w = tensor([16, 8, 3, 3], 31);
    for (let seed = 0; seed < 6; seed++) {
      const x = tensor([1, 8, 48, 48], 40 + seed);
      for (const opts of [{ padding: 1 }, { padding: 1, paddingMode: 'reflect' as const }, { padding: [[2, 0], [1, 1]] as [number, number][] }]) {
        const direct = env.ck.conv2d(x, w, opts);
        const [pieces, pooled] = await piecesOf(splitting.pool, () => splitting.pool.conv2d(x, w, opts));
        expect(pieces).toBe(2);
        expect(Array.from(pooled.data)).toEqual(Array.from(direct.data));
      }
    }
    // A pooled result is the caller's: a later call does not write into it, whether it was joined
    // from pieces or is the array a call run whole came back in (256 KB: its replacement is
    // faulted into the stash while the worker computes).
    for (const [pool, parts, shape, weight] of [[splitting.pool, 2, [1, 8, 48, 48], w], [env.pool, 1, [1, 8, 64, 64], tensor([16, 8, 1, 1], 32)]] as const) {
      const [pieces, first] = await piecesOf(pool, () => pool.conv2d(tensor([...shape], 60), weight));
      expect(pieces).toBe(parts);
      const kept = Array.from(first.data);
      for (let seed = 61; seed < 64; seed++) await pool.conv2d(tensor([...shape], seed), weight);
      expect(Array.from(first.data)).toEqual(kept);
    }
  });
});

describe('BufferStash', () => {
  it('hands back kept buffers by size, up to its limit, and skips moved ones', () => {
    const stash = new BufferStash(1024);
    const a = new ArrayBuffer(400);
    const b = new ArrayBuffer(400);
    const big = new ArrayBuffer(2048);
    const moved = new ArrayBuffer(400);
    structuredClone(moved, { transfer: [moved] });
    stash.give([a, a, b, big, moved]);
    const taken = [stash.take(100), stash.take(100), stash.take(100)];
    expect(taken.map((t) => t.buffer)).toEqual([b, a, expect.any(ArrayBuffer)]);
    expect(taken[2].buffer === a || taken[2].buffer === b).toBe(false);
    expect(stash.take(512).buffer).not.toBe(big);
    stash.give([a]);
    stash.clear();
    expect(stash.take(100).buffer).not.toBe(a);
  });
});
