// Every invalid argument of conv2d gets a ConvkitError with the right code and a message naming
// the argument, before any work is done; the next call works.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConvkit, suitePool, tensor, type Convkit } from './helpers.js';

const x = tensor([1, 4, 6, 6], 1);
const w = tensor([2, 4, 3, 3], 2);

type Case = [name: string, code: string, mention: RegExp, args: () => unknown[]];

const cases: Case[] = [
  ['x not a tensor', 'INVALID_ARGUMENT', /x must be a tensor/, () => [[1, 2, 3], w]],
  ['x.data not Float32Array', 'INVALID_ARGUMENT', /x must be a tensor/, () => [{ data: [1], shape: [1, 1, 1, 1] }, w]],
  ['NaN in shape', 'INVALID_ARGUMENT', /x\.shape/, () => [{ data: x.data, shape: [1, 4, NaN, 6] }, w]],
  ['fractional shape', 'INVALID_ARGUMENT', /x\.shape/, () => [{ data: x.data, shape: [1, 4, 6.5, 6] }, w]],
  ['data length != shape', 'SHAPE_MISMATCH', /x\.data has 144 elements/, () => [{ data: x.data, shape: [1, 4, 6, 5] }, w]],
  ['x of rank 2', 'INVALID_ARGUMENT', /x must have 3 or 4 dimensions/, () => [{ data: x.data, shape: [4, 36] }, w]],
  ['weight of rank 3', 'INVALID_ARGUMENT', /weight must have 4 dimensions/, () => [x, { data: w.data, shape: [2, 4, 9] }]],
  ['empty channel dim', 'INVALID_ARGUMENT', /empty dimension/, () => [{ data: new Float32Array(0), shape: [1, 0, 6, 6] }, w]],
  ['empty spatial dim', 'INVALID_ARGUMENT', /empty dimension/, () => [{ data: new Float32Array(0), shape: [1, 4, 0, 6] }, w]],
  ['empty weight dim', 'INVALID_ARGUMENT', /weight has an empty dimension/, () => [x, { data: new Float32Array(0), shape: [0, 4, 3, 3] }]],
  ['channel mismatch', 'SHAPE_MISMATCH', /weight has 3 input channels per group but input has 4 channels \(groups=1\)/, () => [x, tensor([2, 3, 3, 3])]],
  ['groups not dividing input', 'INVALID_ARGUMENT', /groups=3 must divide the input channels/, () => [x, tensor([3, 1, 3, 3]), { groups: 3 }]],
  ['groups not dividing output', 'INVALID_ARGUMENT', /groups=2 must divide the weight's output channels/, () => [x, tensor([3, 2, 3, 3]), { groups: 2 }]],
  ['groups zero', 'INVALID_ARGUMENT', /groups must be a positive integer/, () => [x, w, { groups: 0 }]],
  ['groups fractional', 'INVALID_ARGUMENT', /groups must be a positive integer/, () => [x, w, { groups: 1.5 }]],
  ['bias wrong length', 'SHAPE_MISMATCH', /bias has 3 elements but weight has 2 output channels/, () => [x, w, { bias: new Float32Array(3) }]],
  ['bias not a tensor', 'INVALID_ARGUMENT', /bias must be a tensor/, () => [x, w, { bias: [1, 2] }]],
  ['stride zero', 'INVALID_ARGUMENT', /stride must be a positive integer/, () => [x, w, { stride: 0 }]],
  ['stride negative', 'INVALID_ARGUMENT', /stride/, () => [x, w, { stride: [-1, 1] }]],
  ['stride wrong length', 'INVALID_ARGUMENT', /stride/, () => [x, w, { stride: [1, 1, 1] }]],
  ['stride NaN', 'INVALID_ARGUMENT', /stride/, () => [x, w, { stride: NaN }]],
  ['dilation zero', 'INVALID_ARGUMENT', /dilation must be a positive integer/, () => [x, w, { dilation: [1, 0] }]],
  ['padding negative', 'INVALID_ARGUMENT', /padding must be/, () => [x, w, { padding: -1 }]],
  ['padding pair negative', 'INVALID_ARGUMENT', /padding must be/, () => [x, w, { padding: [[0, -1], [1, 1]] }]],
  ['padding wrong length', 'INVALID_ARGUMENT', /padding must be/, () => [x, w, { padding: [1, 1, 1] }]],
  ['padding unknown string', 'INVALID_ARGUMENT', /padding must be/, () => [x, w, { padding: 'half' }]],
  ['padding NaN', 'INVALID_ARGUMENT', /padding must be/, () => [x, w, { padding: NaN }]],
  ['paddingMode unknown', 'INVALID_ARGUMENT', /paddingMode must be one of/, () => [x, w, { paddingMode: 'mirror' }]],
  ['reflect pad not smaller than input', 'INVALID_ARGUMENT', /too large for paddingMode 'reflect'/, () => [x, w, { padding: 6, paddingMode: 'reflect' }]],
  ['circular pad larger than input', 'INVALID_ARGUMENT', /too large for paddingMode 'circular'/, () => [x, w, { padding: 7, paddingMode: 'circular' }]],
  ['kernel larger than padded input', 'INVALID_ARGUMENT', /kernel extent 7/, () => [x, tensor([2, 4, 7, 3])]],
  ['dilated kernel too large', 'INVALID_ARGUMENT', /kernel extent 9 \(size 3, dilation 4\)/, () => [x, w, { dilation: 4 }]],
  ['flip not boolean', 'INVALID_ARGUMENT', /flip must be a boolean/, () => [x, w, { flip: 'yes' }]],
  ['algorithm unknown', 'INVALID_ARGUMENT', /algorithm must be one of/, () => [x, w, { algorithm: 'gemm' }]],
  ['algorithm not available', 'UNSUPPORTED', /algorithm 'fft'/, () => [x, w, { algorithm: 'fft', stride: 2 }]],
  ['winograd with stride 2', 'UNSUPPORTED', /algorithm 'winograd'/, () => [x, w, { algorithm: 'winograd', stride: 2 }]],
  ['winograd with a 2x3 kernel', 'UNSUPPORTED', /algorithm 'winograd'/, () => [x, tensor([2, 4, 2, 3]), { algorithm: 'winograd' }]],
  ['layout unknown', 'INVALID_ARGUMENT', /layout must be one of/, () => [x, w, { layout: 'NHWC' }]],
  ['backend unknown', 'INVALID_ARGUMENT', /backend must be one of/, () => [x, w, { backend: 'gpu' }]],
  ['unknown option', 'INVALID_ARGUMENT', /unknown option 'padding_mode'/, () => [x, w, { padding_mode: 'reflect' }]],
  ['options not an object', 'INVALID_ARGUMENT', /options must be an object/, () => [x, w, 3]],
];

describe.each(['wasm-simd', 'js'] as const)('conv2d errors (%s)', (kind) => {
  let ck: Convkit;
  beforeAll(async () => {
    ck = await loadConvkit(kind);
  });

  it.each(cases)('%s', (_, code, mention, args) => {
    const before = [x.data.slice(), w.data.slice()];
    let error: unknown;
    try {
      (ck.conv2d as (...a: unknown[]) => unknown)(...args());
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ck.ConvkitError);
    expect((error as InstanceType<Convkit['ConvkitError']>).code).toBe(code);
    expect((error as Error).message).toMatch(/^conv2d: /);
    expect((error as Error).message).toMatch(mention);
    // Nothing corrupted, and the next call works.
    expect([x.data, w.data]).toEqual(before);
    expect(ck.conv2d(x, w).shape).toEqual([1, 2, 4, 4]);
  });

  it('a batch of size 0 gives an empty output of the right shape', () => {
    const out = ck.conv2d({ data: new Float32Array(0), shape: [0, 4, 6, 6] }, w, { padding: 1 });
    expect(out.shape).toEqual([0, 2, 6, 6]);
    expect(out.data.length).toBe(0);
  });
});

describe('backend selection', () => {
  it("asking for 'wasm' when it is not loaded is UNSUPPORTED, never a fallback", async () => {
    const ck = await loadConvkit('js');
    expect(() => ck.conv2d(x, w, { backend: 'wasm' })).toThrow(expect.objectContaining({ code: 'UNSUPPORTED' }));
    expect(ck.conv2d(x, w, { backend: 'js' }).shape).toEqual([1, 2, 4, 4]);
  });
});

describe('pool errors', () => {
  const env = suitePool();

  it.each(cases)('%s rejects with the same error', async (_, code, mention, args) => {
    const { pool } = env;
    const call = (pool.conv2d as (...a: unknown[]) => Promise<unknown>)(...args());
    await expect(call).rejects.toMatchObject({ name: 'ConvkitError', code, message: expect.stringMatching(mention) });
    expect((await pool.conv2d(x, w)).shape).toEqual([1, 2, 4, 4]);
  });
});
