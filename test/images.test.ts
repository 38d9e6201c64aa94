// Image filters against scipy.ndimage (test/fixtures/generate_images.py, cross-checked there with
// OpenCV) on every border mode, backend and the pool; the rank-1 detection; OpenCV's Gaussian
// kernels; bad input; and the pool's row split of a large image.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { execute, finishCall, type OpCall } from '../ts/api/call.js';
import { runSteps } from '../ts/api/composites.js';
import { filterSteps, imageCalls, separableFactors } from '../ts/api/image-filters.js';
import { readKernel, type FilteredImage, type ImageLike } from '../ts/api/image.js';
import type { ConvProblem } from '../ts/api/problem.js';
import { jsBackend } from '../ts/backends/js/index.js';
import { imageRowPieces } from '../ts/pool/split.js';
import { SPLIT_MIN_WORK } from '../ts/pool/split-calibration.js';
import { callOp, fixtureSuites, loadConvkit, suitePool, type Convkit, type TestPool } from './helpers.js';

interface ImageFixture {
  name: string;
  op: string;
  args: unknown[];
  opts: Record<string, unknown>;
  channels: number;
  expected: Float32Array;
}

const doc = JSON.parse(readFileSync(new URL('./fixtures/images.json', import.meta.url), 'utf8'));
const bytes = (b64: string) => new Uint8Array(Buffer.from(b64, 'base64'));
const IMAGE: ImageLike = { data: new Uint8ClampedArray(bytes(doc.image.data)), width: doc.image.width, height: doc.image.height };
const fixtures: ImageFixture[] = doc.cases.map((c: ImageFixture & { expected: string }) => {
  const b = bytes(c.expected as unknown as string);
  return { ...c, expected: new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4) };
});

/** What a Uint8ClampedArray store makes of a value: clamped, rounded half to even. */
const stored = (v: number) => new Uint8ClampedArray([v])[0];

/** Every filtered channel equals the rounded reference, except that a reference within 1e-3 of a
 * rounding tie may land on either side (float32 vs float64); unfiltered channels are copied. */
function checkImage(f: ImageFixture, result: unknown): string {
  const out = result as FilteredImage;
  if (!(out.data instanceof Uint8ClampedArray)) return 'data is not a Uint8ClampedArray';
  if (out.width !== IMAGE.width || out.height !== IMAGE.height) return `size ${out.width}x${out.height}`;
  for (let p = 0; p < IMAGE.width * IMAGE.height; p++) {
    for (let c = 0; c < 4; c++) {
      const got = out.data[p * 4 + c];
      if (c >= f.channels) {
        if (got !== IMAGE.data[p * 4 + c]) return `pixel ${p} channel ${c} not copied: ${got} vs ${IMAGE.data[p * 4 + c]}`;
        continue;
      }
      const want = f.expected[p * f.channels + c];
      const nearTie = Math.abs(want - Math.floor(want) - 0.5) < 1e-3;
      const ok = got === stored(want) || (nearTie && (got === stored(Math.floor(want)) || got === stored(Math.ceil(want))));
      if (!ok) return `pixel ${p} (x ${p % IMAGE.width}, y ${Math.floor(p / IMAGE.width)}) channel ${c}: got ${got}, want ${want}`;
    }
  }
  return 'ok';
}

const argsOf = (f: ImageFixture) => [IMAGE, ...f.args, f.opts];

it('covers every filter, border mode and the kernel shapes that matter', () => {
  const ops = new Set(fixtures.map((f) => f.op));
  for (const op of ['filter2d', 'boxBlur', 'gaussianBlur', 'sharpen', 'laplacian', 'sobel', 'prewitt', 'emboss']) expect(ops.has(op), op).toBe(true);
  for (const border of ['zeros', 'reflect', 'symmetric', 'replicate', 'circular']) {
    expect(fixtures.filter((f) => f.opts.border === border).length).toBe(fixtures.length / 5);
  }
  // Transparent pixels, opaque ones and both ends of the byte range are in the image.
  const alpha = IMAGE.data.filter((_, i) => i % 4 === 3);
  expect(Math.min(...alpha)).toBe(0);
  expect(Math.max(...alpha)).toBe(255);
});

it('inputs are left as they were', async () => {
  const ck = await loadConvkit('wasm-simd');
  const before = IMAGE.data.slice();
  const kernel = [[1, 2], [3, 4]];
  for (const f of fixtures.slice(0, 20)) callOp(ck as unknown as Record<string, unknown>, f.op, argsOf(f));
  ck.filter2d(IMAGE, kernel);
  expect(IMAGE.data).toEqual(before);
  expect(kernel).toEqual([[1, 2], [3, 4]]);
});

fixtureSuites(fixtures, (lib, f) => callOp(lib, f.op, argsOf(f)), checkImage, ['wasm-simd', 'js']);

describe('kernels', () => {
  let ck: Convkit;
  beforeAll(async () => {
    ck = await loadConvkit('js');
  });

  it("gaussian1d is OpenCV's getGaussianKernel (length round(6σ+1)|1)", () => {
    for (const { sigma, kernel } of doc.gaussians as { sigma: number; kernel: number[] }[]) {
      const ours = ck.kernels.gaussian1d(sigma);
      expect(ours.length, `sigma ${sigma}`).toBe(kernel.length);
      ours.forEach((v, i) => expect(Math.abs(v - kernel[i])).toBeLessThan(1e-15));
    }
  });

  it('kernel builders reject bad sizes with a ConvkitError naming the argument', () => {
    expect(() => ck.kernels.gaussian(0)).toThrow(expect.objectContaining({ name: 'ConvkitError', message: expect.stringMatching(/^kernels\.gaussian1d: sigma must be a positive number/) }));
    expect(() => ck.kernels.gaussian1d(NaN)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => ck.kernels.box(-1)).toThrow(expect.objectContaining({ name: 'ConvkitError', message: expect.stringMatching(/^kernels\.box1d: radius must be an integer/) }));
    expect(ck.kernels.box(0)).toEqual([[1]]);
  });

  it('named kernels are frozen plain data that filter2d takes', () => {
    expect(ck.kernels.sobelX).toEqual([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]);
    expect(ck.kernels.sobelY).toEqual([[-1, -2, -1], [0, 0, 0], [1, 2, 1]]);
    expect(ck.kernels.embossTopLeft).toEqual([[-1, 0, 0], [0, 0, 0], [0, 0, 1]]);
    expect(() => ((ck.kernels.sharpen as number[][])[1][1] = 9)).toThrow(TypeError);
    expect(ck.kernels.box(1).flat().every((v) => v === 1 / 9)).toBe(true);
    const viaKernel = ck.filter2d(IMAGE, ck.kernels.laplacian, { border: 'reflect' });
    expect(viaKernel.data).toEqual(ck.laplacian(IMAGE, { border: 'reflect' }).data);
  });
});

describe('rank-1 kernels run as two 1D passes', () => {
  /** The weight shapes of the convolutions a filter runs (on the JS backend). */
  function passes(steps: Generator<OpCall, FilteredImage, unknown>): number[][] {
    const shapes: number[][] = [];
    runSteps(steps as never, (call: OpCall) => {
      shapes.push((call.problem as ConvProblem).weightShape);
      return finishCall(call, execute(jsBackend, call));
    });
    return shapes;
  }
  const kernelNamed = (name: string) => fixtures.find((f) => f.name === `filter2d ${name} zeros`)!.args[0] as number[][];

  it('detects kernels that are rank-1 up to float32 rounding', () => {
    const k = readKernel('t', kernelNamed('separable-up-to-rounding'));
    // Not exactly rank-1 in float32 ...
    const [column, row] = separableFactors(k)!;
    expect(k.data.some((v, i) => v !== Math.fround(column[Math.floor(i / k.width)] * row[i % k.width]))).toBe(true);
    // ... and still run as a column pass then a row pass.
    expect(passes(filterSteps(imageCalls.filter2d(IMAGE, kernelNamed('separable-up-to-rounding'))))).toEqual([[1, 1, 9, 1], [1, 1, 1, 5]]);
    expect(passes(filterSteps(imageCalls.gaussianBlur(IMAGE, 1)))).toEqual([[1, 1, 7, 1], [1, 1, 1, 7]]);
    expect(passes(filterSteps(imageCalls.boxBlur(IMAGE, 2)))).toEqual([[1, 1, 5, 1], [1, 1, 1, 5]]);
    expect(passes(filterSteps(imageCalls.sobel(IMAGE, { direction: 'x' })))).toEqual([[1, 1, 3, 1], [1, 1, 1, 3]]);
  });

  it('runs other kernels as one 2D convolution', () => {
    expect(separableFactors(readKernel('t', kernelNamed('nearly-separable')))).toBeUndefined();
    expect(passes(filterSteps(imageCalls.filter2d(IMAGE, kernelNamed('nearly-separable'))))).toEqual([[1, 1, 9, 5]]);
    expect(passes(filterSteps(imageCalls.sharpen(IMAGE)))).toEqual([[1, 1, 3, 3]]);
    expect(passes(filterSteps(imageCalls.emboss(IMAGE)))).toEqual([[1, 1, 3, 3]]);
    expect(passes(filterSteps(imageCalls.sobel(IMAGE, { direction: 'magnitude' })))).toEqual([[2, 1, 3, 3]]);
    // 1D kernels are already one pass.
    expect(passes(filterSteps(imageCalls.filter2d(IMAGE, [[1, 2, 1]])))).toEqual([[1, 1, 1, 3]]);
  });
});

describe('bad input', () => {
  const env = suitePool();

  const tiny = { data: new Uint8ClampedArray(4 * 6), width: 3, height: 2 };
  const cases: [string, string, unknown[], string][] = [
    ['image not an object', 'filter2d', [42, [[1]]], 'filter2d: image must be an ImageData-like'],
    ['image data Float32Array', 'filter2d', [{ data: new Float32Array(24), width: 3, height: 2 }, [[1]]], 'filter2d: image.data must be a Uint8ClampedArray or Uint8Array'],
    ['image size mismatch', 'sharpen', [{ data: new Uint8ClampedArray(20), width: 3, height: 2 }], 'sharpen: image.data has 20 bytes but a 3x2 RGBA image needs 24'],
    ['image width 0', 'boxBlur', [{ data: new Uint8ClampedArray(0), width: 0, height: 2 }, 1], 'boxBlur: image width and height must be positive integers'],
    ['ragged kernel', 'filter2d', [tiny, [[1, 2], [3]]], 'filter2d: kernel must be non-empty rows of numbers'],
    ['empty kernel', 'filter2d', [tiny, []], 'filter2d: kernel must be non-empty rows of numbers'],
    ['NaN weight', 'filter2d', [tiny, [[1, NaN]]], 'filter2d: kernel weights must be finite numbers, got NaN at row 0, column 1'],
    ['kernel data length', 'filter2d', [tiny, { data: new Float32Array(5), width: 2, height: 2 }], 'filter2d: kernel.data has 5 weights but 2x2 needs 4'],
    ['unknown option', 'filter2d', [tiny, [[1]], { padding: 1 }], "filter2d: unknown option 'padding'"],
    ['bad border', 'gaussianBlur', [tiny, 1, { border: 'wrap' }], "gaussianBlur: border must be one of 'zeros', 'reflect', 'symmetric', 'replicate', 'circular', got \"wrap\""],
    ['bad channels', 'sharpen', [tiny, { channels: 'rgbx' }], "sharpen: channels must be one of 'rgb', 'rgba'"],
    ['bad delta', 'laplacian', [tiny, { delta: Infinity }], 'laplacian: delta must be a finite number'],
    ['bad direction', 'sobel', [tiny, { direction: 'z' }], "sobel: direction must be one of 'x', 'y', 'magnitude'"],
    ['bad emboss direction', 'emboss', [tiny, { direction: 'left' }], "emboss: direction must be one of 'top-left'"],
    ['sigma 0', 'gaussianBlur', [tiny, 0], 'gaussianBlur: sigma must be a positive number'],
    ['radius 1.5', 'boxBlur', [tiny, 1.5], 'boxBlur: radius must be an integer from 0 to 4095'],
    ['options not an object', 'sharpen', [tiny, 'reflect'], 'sharpen: options must be an object'],
  ];

  it.each(cases)('%s: a ConvkitError naming the argument, then the next call works', async (_, op, args, message) => {
    const { ck, pool } = env;
    for (const run of [() => callOp(ck as unknown as Record<string, unknown>, op, args), () => callOp(pool as unknown as Record<string, unknown>, op, args)]) {
      let error: unknown;
      try {
        await run();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ck.ConvkitError);
      expect((error as Error).message).toContain(message);
    }
    expect(ck.boxBlur(IMAGE, 1).data.length).toBe(IMAGE.data.length);
  });

  it('accepts a Uint8Array image and a { data, width, height } kernel', () => {
    const { ck } = env;
    const asBytes = { data: new Uint8Array(IMAGE.data), width: IMAGE.width, height: IMAGE.height };
    const k = { data: Float32Array.from([0, -1, 0, -1, 5, -1, 0, -1, 0]), width: 3, height: 3 };
    expect(ck.filter2d(asBytes, k).data).toEqual(ck.sharpen(IMAGE).data);
  });

  it('radius 0 is the identity', () => {
    expect(env.ck.boxBlur(IMAGE, 0).data).toEqual(new Uint8ClampedArray(IMAGE.data));
  });
});

describe('large images in the pool', () => {
  const env = suitePool();
  // A 640x480 noise image with a soft gradient.
  const big: ImageLike = { data: new Uint8ClampedArray(640 * 480 * 4), width: 640, height: 480 };
  let s = 12345;
  big.data.forEach((_, i) => {
    s = (s * 1103515245 + 12345) >>> 0;
    big.data[i] = ((s >>> 16) & 0xff) / 2 + ((i >> 2) % 640) / 5;
  });

  it('splits the filters by rows across the workers (images below the calibrated work stay whole)', () => {
    for (const call of [imageCalls.gaussianBlur(big, 2), imageCalls.sobel(big), imageCalls.filter2d(big, [[1, 2, 3], [4, 5, 6], [7, 8, 10]])]) {
      expect(imageRowPieces(call, 2, 0)).toEqual([[0, 240], [240, 480]]);
      expect(imageRowPieces(call, 3, 0)).toEqual([[0, 160], [160, 320], [320, 480]]);
    }
    // filter2d with a 3x3 kernel that is not rank 1: 9 taps per pixel and RGB channel.
    const work = big.width * big.height * 3 * 9;
    const filter = imageCalls.filter2d(big, [[1, 2, 3], [4, 5, 6], [7, 8, 10]]);
    expect(imageRowPieces(filter, 2, work + 1)).toEqual([[0, big.height]]);
    expect(imageRowPieces(filter, 2, work)).toHaveLength(2);
    expect(imageRowPieces(filter, 2)).toEqual(imageRowPieces(filter, 2, SPLIT_MIN_WORK.image));
  });

  it('an aborted filter rejects with ABORTED and the pool keeps working', async () => {
    const { ck, pool } = env;
    const controller = new AbortController();
    const slow = pool.gaussianBlur(big, 30, { backend: 'js', signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(slow).rejects.toMatchObject({ code: 'ABORTED', message: 'gaussianBlur: aborted' });
    const after = await pool.sharpen(big);
    expect(Buffer.from(after.data).equals(Buffer.from(ck.sharpen(big).data))).toBe(true);
    expect(pool.stats().inFlight).toBe(0);
  });

  it.each(['zeros', 'reflect', 'symmetric', 'replicate', 'circular'] as const)('gives the same bytes as one thread (%s)', async (border) => {
    const { ck, pool } = env;
    const runs: [string, (lib: Convkit | TestPool) => unknown][] = [
      ['gaussianBlur', (lib) => lib.gaussianBlur(big, 2.5, { border })],
      ['sobel', (lib) => lib.sobel(big, { border })],
      ['filter2d 5x5', (lib) => lib.filter2d(big, ck.kernels.gaussian(0.7).map((r, i) => r.map((v, j) => v + (i === j ? 0.01 : 0))), { border, flip: true })],
      ['emboss rgba', (lib) => lib.emboss(big, { border, channels: 'rgba' })],
      // Taller than a band's halo of a small kernel: reads rows far from its band (and wraps).
      ['filter2d 41x3', (lib) => lib.filter2d(big, Array.from({ length: 41 }, (_, r) => [r / 900, 0.01, -r / 1000]), { border })],
    ];
    for (const [name, run] of runs) {
      const want = run(ck) as FilteredImage;
      const got = (await run(pool)) as FilteredImage;
      expect(Buffer.from(got.data).equals(Buffer.from(want.data)), name).toBe(true);
    }
  });
});
