// The relaxed SIMD build (fused multiply-add) is chosen by init() only where the engine validates it:
// Node 20 behind --experimental-wasm-relaxed-simd (each case is a separate process, since V8 flags
// are per process). Chromium has it by default (test/runtimes.test.ts).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { compare, loadConvFixtures } from './helpers.js';

const RUNNER = fileURLToPath(new URL('./fixture-runner.mjs', import.meta.url));
const RELAXED_FLAG = '--experimental-wasm-relaxed-simd';

interface Encoded {
  shape: number[];
  data: string;
}
interface RunnerResult {
  info: { backend: string; relaxedSimd: boolean };
  poolInfo: { backend: string; relaxedSimd: boolean };
  main: Record<string, Encoded>;
  pooled: Record<string, Encoded>;
}

function runNode(flags: string[], initOptions: object, fixtures = false): RunnerResult {
  const args = [...flags, RUNNER, JSON.stringify(initOptions), ...(fixtures ? ['fixtures'] : [])];
  return JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 }));
}

function decode(e: Encoded) {
  const bytes = Buffer.from(e.data, 'base64');
  return { shape: e.shape, data: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)) };
}

it('with the flag, init() loads the relaxed build, here and in the pool, and it matches PyTorch', () => {
  const result = runNode([RELAXED_FLAG], {}, true);
  expect(result.info).toMatchObject({ backend: 'wasm-simd', relaxedSimd: true });
  expect(result.poolInfo).toMatchObject({ backend: 'wasm-simd', relaxedSimd: true });
  const fixtures = loadConvFixtures();
  const failures: string[] = [];
  for (const f of fixtures) {
    for (const [where, outputs] of Object.entries({ main: result.main, pool: result.pooled })) {
      const detail = compare(decode(outputs[f.name]), f.expected).detail;
      if (detail !== 'ok') failures.push(`${f.name} (${where}): ${detail}`);
    }
  }
  expect(failures).toEqual([]);
}, 180_000);

it('with the flag, init({ relaxed: false }) loads the SIMD128 build, and so does its pool', () => {
  const result = runNode([RELAXED_FLAG], { relaxed: false });
  expect(result.info).toMatchObject({ backend: 'wasm-simd', relaxedSimd: false });
  expect(result.poolInfo).toMatchObject({ backend: 'wasm-simd', relaxedSimd: false });
});

it('with the flag, init({ simd: false }) still loads the scalar build', () => {
  const result = runNode([RELAXED_FLAG], { simd: false });
  expect(result.info).toMatchObject({ backend: 'wasm', relaxedSimd: false });
  expect(result.poolInfo).toMatchObject({ backend: 'wasm', relaxedSimd: false });
});

it('without the flag, Node 20 falls back to the SIMD128 build', () => {
  const result = runNode([], {});
  expect(result.info).toMatchObject({ backend: 'wasm-simd', relaxedSimd: false });
  expect(result.poolInfo).toMatchObject({ backend: 'wasm-simd', relaxedSimd: false });
});

it('the relaxed-vs-SIMD128 benchmark runs (--quick), checks the builds agree and prints a row per shape', () => {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const out = execFileSync(process.execPath, [RELAXED_FLAG, 'bench/relaxed.mjs', '--quick'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  expect(out).toMatch(/^f32x4\.relaxed_madd fused on this engine and CPU: (true|false)$/m);
  const rows = out.split('\n').filter((l) => /^S\d/.test(l));
  expect(rows).toHaveLength(10);
  for (const row of rows) expect(Number(row.split('\t')[5])).toBeGreaterThan(0);
});
