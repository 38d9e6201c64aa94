// The browser playground (`npm run demo`) in headless Chromium: the sample image blurred in the
// worker pool equals the library's own result for the same call, images load from the file picker
// and by drag and drop, the wasm-vs-JS comparison runs, errors show, and the page keeps
// responding while a slow filter runs. Screenshots go to test/artifacts/.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encode } from 'fast-png';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without types
import { buildPlayground, startServer } from '../web-worker/playground/serve.mjs';
import { launchChromium, loadConvkit, type Convkit } from './helpers.js';

const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));
interface PlaygroundState {
  ready: boolean;
  running: boolean;
  runs: number;
  lastMs: number;
  maxStallMs: number;
  status: string;
  timings: Record<string, number>;
}

let dir: string;
let server: Server;
let browser: Browser;
let page: Page;
let ck: Convkit;

const state = () => page.evaluate(() => (globalThis as unknown as { __playground: PlaygroundState }).__playground);

/** A canvas's pixels, through base64 (a million numbers as JSON would be slow). */
async function pixels(id: 'before' | 'after') {
  const { width, height, b64 } = await page.evaluate((canvasId) => {
    const canvas = document.getElementById(canvasId) as HTMLCanvasElement;
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let binary = '';
    for (let i = 0; i < data.length; i += 0x8000) binary += String.fromCharCode(...data.subarray(i, i + 0x8000));
    return { width: canvas.width, height: canvas.height, b64: btoa(binary) };
  }, id);
  return { data: new Uint8ClampedArray(Buffer.from(b64, 'base64')), width, height };
}

async function runFilter(setup: () => Promise<void>) {
  const before = (await state()).runs;
  await setup();
  await page.click('#run');
  await page.waitForFunction((n) => (globalThis as unknown as { __playground: PlaygroundState }).__playground.runs > n, before, { timeout: 60_000 });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'convkit-playground-'));
  await buildPlayground(dir);
  server = await startServer(dir);
  ck = await loadConvkit('wasm-simd');
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1500, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  await page.waitForFunction(() => (globalThis as unknown as { __playground?: PlaygroundState }).__playground?.ready === true, null, { timeout: 60_000 });
  expect(errors).toEqual([]);
  mkdirSync(ARTIFACTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('playground in Chromium', () => {
  it("blurs the sample in the worker pool as the library does (up to a fused multiply-add's rounding)", async () => {
    await page.click('#sample');
    await runFilter(async () => {
      await page.selectOption('#filter', 'gaussianBlur');
      await page.fill('#sigma', '2');
      await page.selectOption('#border', 'reflect');
      await page.selectOption('#backend', 'wasm');
    });
    const before = await pixels('before');
    const after = await pixels('after');
    expect([before.width, before.height]).toEqual([640, 420]);
    expect(before.data.every((v, i) => i % 4 !== 3 || v === 255)).toBe(true);
    const want = ck.gaussianBlur(before, 2, { border: 'reflect' });
    // The page's workers run the relaxed SIMD build (Chromium has it, Node 20 here does not): its
    // fused multiply-add rounds once, so a channel value next to a .5 boundary may round the other
    // way. Anything more than that is a real difference.
    const differing = after.data.filter((v, i) => v !== want.data[i]).length;
    expect(after.data.every((v, i) => Math.abs(v - want.data[i]) <= 1)).toBe(true);
    expect(differing).toBeLessThan(after.data.length / 10_000);
    // Not a copy: the blur changed the picture.
    expect(Buffer.from(after.data).equals(Buffer.from(before.data))).toBe(false);
    expect((await state()).status).toMatch(/^done in \d/);
    expect(await page.textContent('#time')).toMatch(/ms \(wasm, \d workers\)/);
    await page.screenshot({ path: join(ARTIFACTS, 'playground.png') });
  });

  it('runs an edited custom kernel on the JS backend', async () => {
    await runFilter(async () => {
      await page.selectOption('#filter', 'filter2d');
      await page.selectOption('#preset', 'sobelX');
      await page.fill('[aria-label="kernel row 2 column 3"]', '3');
      await page.selectOption('#border', 'circular');
      await page.selectOption('#backend', 'js');
      await page.fill('#delta', '128');
    });
    const before = await pixels('before');
    const want = ck.filter2d(before, [[-1, 0, 1], [-2, 0, 3], [-1, 0, 1]], { border: 'circular', delta: 128 });
    expect(Buffer.from((await pixels('after')).data).equals(Buffer.from(want.data))).toBe(true);
    await page.fill('#delta', '');
  });

  it('shows a bad kernel as an error and keeps working', async () => {
    await page.fill('[aria-label="kernel row 1 column 1"]', 'abc');
    await page.click('#run');
    await page.waitForFunction(() => document.getElementById('status')!.className === 'error');
    expect(await page.textContent('#status')).toContain('filter2d: kernel weights must be finite numbers');
    await page.fill('[aria-label="kernel row 1 column 1"]', '-1');
  });

  it('loads an image from the file picker and by drag and drop', async () => {
    const [w, h] = [37, 23];
    const rgba = new Uint8Array(w * h * 4).map((_, i) => (i % 4 === 3 ? 255 : (i * 31) % 256));
    await page.setInputFiles('#file', { name: 'small.png', mimeType: 'image/png', buffer: Buffer.from(encode({ width: w, height: h, data: rgba, channels: 4, depth: 8 })) });
    await page.waitForFunction(() => document.getElementById('size-info')!.textContent === '37 x 23');
    expect(Buffer.from((await pixels('before')).data).equals(Buffer.from(rgba))).toBe(true);
    await runFilter(async () => {
      await page.selectOption('#filter', 'sobel');
      await page.selectOption('#gradient', 'x');
      await page.selectOption('#backend', 'wasm');
    });
    const want = ck.sobel({ data: new Uint8ClampedArray(rgba), width: w, height: h }, { direction: 'x', border: 'circular' });
    expect(Buffer.from((await pixels('after')).data).equals(Buffer.from(want.data))).toBe(true);

    const dropped = Buffer.from(encode({ width: 11, height: 9, data: new Uint8Array(11 * 9 * 4).fill(200), channels: 4, depth: 8 })).toString('base64');
    await page.evaluate((b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([bytes], 'dropped.png', { type: 'image/png' }));
      document.getElementById('drop')!.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }, dropped);
    await page.waitForFunction(() => document.getElementById('size-info')!.textContent === '11 x 9');
  });

  it('times wasm against JS', async () => {
    await page.click('#sample');
    await page.selectOption('#filter', 'gaussianBlur');
    await page.fill('#sigma', '3');
    await page.click('#compare');
    await page.waitForFunction(() => Object.keys((globalThis as unknown as { __playground: PlaygroundState }).__playground.timings).length === 2, null, { timeout: 120_000 });
    // Which is faster is the benchmark's business (bench/); a loaded machine can flip a single
    // timing. This checks that both ran and that the page reports their ratio the right way round.
    const { timings } = await state();
    expect(timings.wasm).toBeGreaterThan(0);
    expect(timings.js).toBeGreaterThan(0);
    const [, ratio, way] = (await page.textContent('#timings'))!.match(/wasm is ([\d.]+)x (faster|slower)/) ?? [];
    const speedup = timings.js / timings.wasm;
    expect(way).toBe(speedup >= 1 ? 'faster' : 'slower');
    // Shown to one decimal.
    expect(Math.abs(Number(ratio) - (speedup >= 1 ? speedup : 1 / speedup))).toBeLessThanOrEqual(0.051);
    await page.screenshot({ path: join(ARTIFACTS, 'playground-timings.png') });
  }, 180_000);

  it('keeps the page responsive while a slow filter runs in the workers', async () => {
    await page.evaluate(() => ((globalThis as unknown as { __playground: PlaygroundState }).__playground.maxStallMs = 0));
    await runFilter(async () => {
      await page.selectOption('#filter', 'gaussianBlur');
      await page.fill('#sigma', '50');
      await page.selectOption('#backend', 'js');
    });
    const { lastMs, maxStallMs } = await state();
    console.log(`playground: JS gaussian sigma 50 on 640x420 took ${lastMs.toFixed(0)} ms; longest main-thread stall ${maxStallMs.toFixed(0)} ms`);
    // The filter takes far longer than any stall: the work is not on the page's thread.
    expect(lastMs).toBeGreaterThan(200);
    expect(maxStallMs).toBeLessThan(lastMs / 3);
  }, 120_000);
});
