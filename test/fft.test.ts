// FFT convolution asked for by name: every PyTorch conv fixture it can serve (stride 1) on both
// wasm builds and in the pool within the documented tolerance, and the calls it cannot serve
// refused by name.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tensor } from '../ts/index.js';
import { callOp, compare, DIST, loadConvkit, loadConvFixtures, randomData } from './helpers.js';

type Convkit = Awaited<ReturnType<typeof loadConvkit>>;

/** FFT's float32 error grows with the transform size: the README's tolerance for fixture sizes. */
const FFT_ATOL = 1e-4;
const FFT_RTOL = 1e-4;

const servable = loadConvFixtures().filter((f) => [f.options.stride ?? 1].flat().every((s) => s === 1));

describe.each(['wasm-simd', 'wasm'] as const)('fft on %s', (kind) => {
  let ck: Convkit;
  beforeAll(async () => {
    ck = await loadConvkit(kind);
  });

  it('serves a broad share of the fixtures', () => {
    expect(servable.length).toBeGreaterThanOrEqual(60);
  });

  it.each(servable.map((f) => [f.name, f] as const))('%s matches PyTorch', (_, f) => {
    const opts = { ...f.options, ...(f.bias ? { bias: f.bias } : {}), algorithm: 'fft' };
    const got = callOp(ck as unknown as Record<string, unknown>, f.op, [f.x, f.weight, opts]) as Tensor;
    expect(compare(got, f.expected, FFT_ATOL, FFT_RTOL).detail).toBe('ok');
  });

  it('refuses a strided call, saying why', () => {
    const x = { data: randomData(2 * 16 * 16, 1), shape: [1, 2, 16, 16] };
    const w = { data: randomData(3 * 2 * 9 * 9, 2), shape: [3, 2, 9, 9] };
    expect(() => ck.conv2d(x, w, { stride: 2, algorithm: 'fft' })).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED', message: expect.stringMatching(/conv2d: algorithm 'fft' needs stride 1/) }),
    );
  });

  it('agrees with im2col on a large kernel that spans several tiles', () => {
    const x = { data: randomData(2 * 200 * 190, 3), shape: [1, 2, 200, 190] };
    const w = { data: randomData(2 * 2 * 21 * 21, 4), shape: [2, 2, 21, 21] };
    const fft = ck.conv2d(x, w, { padding: 10, paddingMode: 'reflect', algorithm: 'fft' });
    const gemm = ck.conv2d(x, w, { padding: 10, paddingMode: 'reflect', algorithm: 'im2col' });
    expect(compare(fft, gemm, 1e-3, 1e-4).detail).toBe('ok');
  });
});

describe('fft in the pool', () => {
  let ck: Convkit;
  let pool: Awaited<ReturnType<Convkit['createPool']>>;
  beforeAll(async () => {
    ck = await loadConvkit('wasm-simd');
    pool = await ck.createPool({ workers: 2, workerUrl: new URL('worker.js', DIST), wasmBase: DIST, minWorkToSplit: 0 });
  });
  afterAll(() => pool.terminate());

  it('matches the calling thread on a call the pool splits', async () => {
    const x = { data: randomData(2 * 3 * 96 * 80, 5), shape: [2, 3, 96, 80] };
    const w = { data: randomData(4 * 3 * 9 * 9, 6), shape: [4, 3, 9, 9] };
    const opts = { padding: 'same', algorithm: 'fft' } as const;
    const call = pool.conv2d(x, w, opts);
    expect(pool.stats().inFlight).toBe(2); // one batch sample per worker
    const got = await call;
    expect(compare(got, ck.conv2d(x, w, opts), 1e-4, 1e-5).detail).toBe('ok');
  });
});

it('the js backend refuses fft by name', async () => {
  const ck = await loadConvkit('js');
  const x = { data: randomData(64, 1), shape: [1, 1, 8, 8] };
  const w = { data: randomData(9, 2), shape: [1, 1, 3, 3] };
  expect(() => ck.conv2d(x, w, { algorithm: 'fft' })).toThrow(
    expect.objectContaining({ code: 'UNSUPPORTED', message: expect.stringMatching(/conv2d: algorithm 'fft' is not available on the js backend/) }),
  );
});
