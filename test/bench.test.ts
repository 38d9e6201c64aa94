// `npm run bench -- --quick` keeps working: it runs every backend, checks they agree, prints the
// table and writes the JSON results.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

it('bench --quick prints a row per shape and writes results', () => {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const out = execFileSync(process.execPath, ['bench/run.mjs', '--quick'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  const rows = out.split('\n').filter((l) => /^\| S\d/.test(l));
  expect(rows).toHaveLength(5);
  const results = JSON.parse(readFileSync(new URL('../bench/results/latest.json', import.meta.url), 'utf8'));
  expect(results.quick).toBe(true);
  for (const row of results.rows) {
    for (const name of ['wasm-simd', 'wasm', 'js', 'pool(2)']) expect(row.results[name].ms).toBeGreaterThan(0);
  }
  // The image filters run on every backend and the pool.
  expect(results.images.map((r: { filter: string }) => r.filter)).toEqual(['gaussianBlur sigma 2', 'sobel magnitude', 'sharpen', 'filter2d 7x7 (not separable)']);
  for (const row of results.images) {
    for (const name of ['wasm-simd', 'wasm', 'js', 'pool(2)']) expect(row.results[name].ms).toBeGreaterThan(0);
  }
  expect(out).toContain('image filters on 160x120 RGBA');
  // Denormal inputs are measured against normal ones for every backend and algorithm.
  expect(results.denormals.map((d: { backend: string; algorithm: string }) => `${d.backend} ${d.algorithm}`)).toEqual([
    'wasm-simd direct', 'wasm-simd im2col', 'wasm direct', 'wasm im2col', 'js direct',
  ]);
  for (const d of results.denormals) expect(d.ratio).toBeGreaterThan(0);
});
