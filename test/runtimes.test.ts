// The package as a user gets it: `npm pack`, installed into a scratch project, used from Node, Deno
// and headless Chromium (a page bundled from the scratch project with esbuild), on the main thread
// and in the pool, and type-checked against the shipped declarations.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without types
import { startServer } from '../web-worker/playground/serve.mjs';
import { compare, launchChromium, loadConvFixtures, type ConvFixture } from './helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'node_modules', '.bin');

let scratch: string;
let fixture: ConvFixture;

interface RunResult {
  info: { backend: string; relaxedSimd: boolean };
  poolInfo: { backend: string; relaxedSimd: boolean };
  main: { shape: number[]; data: number[] };
  pooled: { shape: number[]; data: number[] };
  error?: string;
}

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', timeout: 120_000, env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' } });
}

/** `relaxed`: whether the engine validates relaxed SIMD by default, so init() picks that build. */
function checkResult(result: RunResult, relaxed: boolean) {
  expect(result.error).toBeUndefined();
  expect(result.info).toMatchObject({ backend: 'wasm-simd', relaxedSimd: relaxed });
  expect(result.poolInfo).toMatchObject({ backend: 'wasm-simd', relaxedSimd: relaxed });
  for (const out of [result.main, result.pooled]) {
    expect(compare({ shape: out.shape, data: Float32Array.from(out.data) }, fixture.expected).detail).toBe('ok');
  }
}

beforeAll(() => {
  // A fixture that exercises layout, bias, padding and groups at once.
  fixture = loadConvFixtures().find((f) => f.name === 'channels-last')!;
  scratch = mkdtempSync(join(tmpdir(), 'convkit-consumer-'));
  const tarball = run('npm', ['pack', '--silent', '--pack-destination', scratch], ROOT).trim().split('\n').pop()!;
  for (const file of readdirSync(join(ROOT, 'test', 'consumer'))) copyFileSync(join(ROOT, 'test', 'consumer', file), join(scratch, file));
  writeFileSync(
    join(scratch, 'package.json'),
    JSON.stringify({ name: 'convkit-consumer', private: true, type: 'module', dependencies: { convkit: `file:./${tarball}` } }),
  );
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], scratch);
  const plain = (t: { data: Float32Array; shape: number[] } | undefined) => t && { data: Array.from(t.data), shape: t.shape };
  writeFileSync(
    join(scratch, 'fixture.json'),
    JSON.stringify({ options: fixture.options, x: plain(fixture.x), weight: plain(fixture.weight), bias: plain(fixture.bias) }),
  );
}, 180_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('installed from the npm pack tarball', () => {
  it('ships only dist/ with the three wasm builds, the worker and the types', () => {
    const dist = readdirSync(join(scratch, 'node_modules', 'convkit', 'dist'));
    expect(dist).toEqual(expect.arrayContaining(['index.js', 'worker.js', 'convkit-relaxed.wasm', 'convkit-simd.wasm', 'convkit-scalar.wasm', 'types']));
  });

  it('runs in Node on the main thread and in the pool', () => {
    // Node 20 validates relaxed SIMD only behind a flag (test/relaxed-simd.test.ts runs with it).
    checkResult(JSON.parse(run(process.execPath, ['cli.mjs'], scratch)), false);
  });

  it('runs in Deno on the main thread and in the pool', () => {
    // Deno 2's V8 has relaxed SIMD on by default, as Chromium's does.
    checkResult(JSON.parse(run(join(BIN, 'deno'), ['run', '--allow-read', '--allow-env', 'cli.mjs'], scratch)), true);
  });

  it('type-checks a consumer against the shipped declarations', () => {
    expect(() => run(join(BIN, 'tsc'), ['-p', 'tsconfig.json'], scratch)).not.toThrow();
  });

  describe('headless Chromium', () => {
    let server: Server;
    let origin: string;
    beforeAll(async () => {
      const www = join(scratch, 'www');
      mkdirSync(www);
      // A user's bundle: esbuild leaves convkit's `new URL(..., import.meta.url)` alone, so the wasm
      // files and the worker are copied next to the bundle.
      await build({ entryPoints: [join(scratch, 'page.mjs')], bundle: true, format: 'esm', outfile: join(www, 'page.js'), absWorkingDir: scratch, logLevel: 'error' });
      for (const file of ['convkit-relaxed.wasm', 'convkit-simd.wasm', 'convkit-scalar.wasm', 'worker.js']) {
        copyFileSync(join(scratch, 'node_modules', 'convkit', 'dist', file), join(www, file));
      }
      copyFileSync(join(scratch, 'fixture.json'), join(www, 'fixture.json'));
      writeFileSync(join(www, 'index.html'), '<!doctype html><script type="module" src="./page.js"></script>');
      server = await startServer(www);
      origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

    it('runs on the main thread and in Web Workers', async () => {
      const browser = await launchChromium();
      try {
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        await page.goto(`${origin}/index.html`);
        await page.waitForFunction(() => (window as unknown as { __result?: unknown }).__result !== undefined, null, { timeout: 60_000 });
        const result = (await page.evaluate(() => (window as unknown as { __result: unknown }).__result)) as RunResult;
        expect(errors).toEqual([]);
        checkResult(result, true);
      } finally {
        await browser.close();
      }
    });
  });
});
