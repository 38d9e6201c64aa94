// Calls that would need more memory than the limit (by default 2 GiB; wasm32 addresses 4 GiB) fail
// fast with OUT_OF_MEMORY before allocating, leave their inputs alone, and the next call works.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIST, loadConvkit, tensor, type Convkit, type Kind } from './helpers.js';

const small = () => [tensor([1, 1, 4, 4], 1), tensor([1, 1, 3, 3], 2)] as const;

/** Calls whose outputs alone would take tens of GiB or more, from tiny inputs. */
const huge: [string, (ck: Convkit) => unknown][] = [
  ["conv2d, dilation 30000 with 'full' padding", (ck) => ck.conv2d(...small(), { dilation: 30000, padding: 'full' })],
  ['convTranspose2d, stride 100000', (ck) => ck.convTranspose2d(tensor([1, 1, 100, 100]), tensor([1, 1, 3, 3]), { stride: 100000 })],
  ['conv3d, padding 5000 on every side', (ck) => ck.conv3d(tensor([1, 1, 2, 2, 2]), tensor([1, 1, 1, 1, 1]), { padding: 5000 })],
  ['conv2dBackward of a call with a huge padded input', (ck) => ck.conv2dBackward(tensor([1, 1, 4, 4]), tensor([1, 1, 4, 4]), tensor([1, 1, 2, 2]), { stride: 60000, padding: 30000 })],
];

describe.each<Kind>(['wasm-simd', 'js'])('%s', (kind) => {
  let ck: Convkit;
  beforeAll(async () => {
    ck = await loadConvkit(kind);
  });

  it.each(huge)('%s fails fast with OUT_OF_MEMORY, and the next call works', (_, call) => {
    const started = performance.now();
    expect(() => call(ck)).toThrow(expect.objectContaining({ code: 'OUT_OF_MEMORY', message: expect.stringMatching(/working memory .* more than the limit/) }));
    // Nothing was allocated or computed: failing takes no time.
    expect(performance.now() - started).toBeLessThan(500);
    const [x, w] = small();
    const before = x.data.slice();
    expect(ck.conv2d(x, w).shape).toEqual([1, 1, 2, 2]);
    expect(x.data).toEqual(before);
  });

  it('init({ memoryLimit }) sets a lower limit that applies to every op', async () => {
    await ck.init({ memoryLimit: 1 << 19 });
    const x = tensor([1, 16, 64, 64], 3);
    const before = x.data.slice();
    expect(() => ck.conv2d(x, tensor([16, 16, 3, 3]), { padding: 1 })).toThrow(expect.objectContaining({ code: 'OUT_OF_MEMORY' }));
    expect(() => ck.maxPool2d(x, { kernelSize: 3, stride: 1, padding: 1 })).toThrow(expect.objectContaining({ code: 'OUT_OF_MEMORY' }));
    const image = { data: new Uint8ClampedArray(256 * 256 * 4), width: 256, height: 256 };
    expect(() => ck.sobel(image)).toThrow(expect.objectContaining({ code: 'OUT_OF_MEMORY', message: expect.stringMatching(/^sobel: .*a 256x256 image, a 3x3 kernel/) }));
    expect(x.data).toEqual(before);
    expect(ck.conv2d(tensor([1, 1, 8, 8]), tensor([1, 1, 3, 3])).shape).toEqual([1, 1, 6, 6]);
    await ck.init({ memoryLimit: 2 ** 31 });
    expect(ck.conv2d(x, tensor([16, 16, 3, 3]), { padding: 1 }).shape).toEqual([1, 16, 64, 64]);
  });

  it('rejects a memoryLimit that is not a positive integer', async () => {
    await expect(ck.init({ memoryLimit: -1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/memoryLimit/) });
  });

  it('rejects build flags that are not booleans, naming the flag, and keeps the loaded build', async () => {
    for (const name of ['wasm', 'simd', 'relaxed']) {
      await expect(ck.init({ [name]: 'no' } as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: `init: ${name} must be true or false, got "no"` });
    }
    expect(ck.backendInfo().backend).toBe(kind);
    expect(ck.conv2d(tensor([1, 1, 8, 8]), tensor([1, 1, 3, 3])).shape).toEqual([1, 1, 6, 6]);
  });
});

describe('pool', () => {
  let ck: Convkit;
  let pool: Awaited<ReturnType<Convkit['createPool']>>;
  beforeAll(async () => {
    ck = await loadConvkit('wasm-simd');
    pool = await ck.createPool({ workers: 2, workerUrl: new URL('worker.js', DIST), wasmBase: DIST, memoryLimit: 1 << 19 });
  });
  afterAll(() => pool.terminate());

  it('rejects a call over its memoryLimit before sending anything, and keeps working', async () => {
    await expect(pool.conv2d(tensor([1, 16, 64, 64]), tensor([16, 16, 3, 3]), { padding: 1 })).rejects.toMatchObject({ code: 'OUT_OF_MEMORY' });
    await expect(pool.conv2d(...small(), { dilation: 30000, padding: 'full' })).rejects.toMatchObject({ code: 'OUT_OF_MEMORY' });
    const image = { data: new Uint8ClampedArray(256 * 256 * 4), width: 256, height: 256 };
    await expect(pool.boxBlur(image, 2)).rejects.toMatchObject({ code: 'OUT_OF_MEMORY', message: expect.stringMatching(/^boxBlur: .*a 256x256 image, a 5x5 kernel/) });
    expect((await pool.boxBlur({ data: new Uint8ClampedArray(4 * 16), width: 4, height: 4 }, 1)).width).toBe(4);
    expect((await pool.conv2d(...small())).shape).toEqual([1, 1, 2, 2]);
  });

  it('rejects a bad memoryLimit', async () => {
    await expect(ck.createPool({ workers: 1, memoryLimit: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
