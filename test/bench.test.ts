// `npm run bench -- --quick` keeps working: it runs every convkit backend and every peer on S1..S10
// and the variants V1..V5,
// checks they agree, measures the SIMD peak, prints the tables and writes the JSON and HTML results.
// The ONNX writer the bench uses for onnxruntime-web is checked on its own against convkit.
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-web';
import { afterAll, describe, expect, it } from 'vitest';
import { singleNodeModel } from '../bench/onnx.mjs';
import { timeInterleaved } from '../bench/timing.mjs';
import { compare, loadConvkit, tensor } from './helpers.js';

const RUNNERS = ['wasm-simd', 'wasm-relaxed', 'wasm', 'js', 'pool(1)', 'pool(2)'];
const PEERS = ['tfjs-wasm', 'tfjs-cpu', 'ort(1)', 'ort(2)'];

/** The quick run's layers: the shapes, then the variants (pooling, grouped, depthwise). */
const QUICK_ROWS = [...Array.from({ length: 10 }, (_, i) => `S${i + 1} (quick)`), ...Array.from({ length: 5 }, (_, i) => `V${i + 1} (quick)`)];

interface Entry {
  ms?: number;
  gflops?: number;
  na?: string;
}

it('bench --quick measures every runner and peer on S1..S10 and V1..V5 and writes results', () => {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const out = execFileSync(process.execPath, ['--experimental-wasm-relaxed-simd', 'bench/run.mjs', '--quick'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });
  const rowNames = QUICK_ROWS;
  // Two tables with a row per shape: times, then the comparisons.
  expect(out.split('\n').filter((l) => /^\| [SV]\d+ /.test(l))).toHaveLength(30);
  expect(out).toMatch(/wasm SIMD128 peak \(f32x4 mul\+add\): \d/);
  const gate = out.match(/quiet-host gate \(bench\/quiet.mjs\): \d+ calls retaken .*; \d+ of the (\d+) kept still contended/);
  const results = JSON.parse(readFileSync(new URL('../bench/results/latest.json', import.meta.url), 'utf8'));
  const timedEntries = results.rows.flatMap((r: { results: Record<string, Entry>; peers: Record<string, Entry> }) => [...Object.values(r.results), ...Object.values(r.peers)].filter((e) => !e.na));
  expect(Number(gate?.[1])).toBe(2 * timedEntries.length);
  expect(results.quick).toBe(true);
  expect(results.peak.gflops).toBeGreaterThan(0);
  expect(results.peak.byAccumulators.map((b: { accumulators: number }) => b.accumulators)).toEqual([4, 8, 12, 16]);
  expect(results.rows.map((r: { shape: string }) => r.shape)).toEqual(rowNames);
  const measuredOrExplained = (e: Entry) => (e.na ? e.na.length > 0 : (e.ms ?? 0) > 0 && (e.gflops ?? 0) > 0);
  for (const row of results.rows) {
    expect(Object.keys(row.results)).toEqual(RUNNERS);
    expect(Object.keys(row.peers)).toEqual(PEERS);
    for (const name of RUNNERS) expect(measuredOrExplained(row.results[name]), `${row.shape} ${name}`).toBe(true);
    for (const name of PEERS) expect(measuredOrExplained(row.peers[name]), `${row.shape} ${name}`).toBe(true);
    // Only the relaxed build may be missing among convkit's runners; every shape has some peer.
    for (const name of ['wasm-simd', 'wasm', 'js', 'pool(1)', 'pool(2)']) {
      expect(row.results[name].ms).toBeGreaterThan(0);
      expect(row.results[name].times).toHaveLength(2);
      expect(row.results[name].retaken).toBeGreaterThanOrEqual(0);
    }
    expect(PEERS).toContain(row.summary.bestPeer);
    expect(row.summary.simdVsPeer).toBeGreaterThan(0);
    expect(row.summary.poolSpeedup).toBeGreaterThan(0);
    // Only the shapes have targets.
    expect(Object.keys(row.summary.targets).length > 0, row.shape).toBe(row.shape.startsWith('S'));
  }
  // onnxruntime-web runs every layer of the suite.
  for (const row of results.rows) expect(row.peers['ort(1)'].ms, row.shape).toBeGreaterThan(0);
  const html = readFileSync(new URL('../bench/results/report.html', import.meta.url), 'utf8');
  expect(statSync(new URL('../bench/results/report.html', import.meta.url)).size).toBeGreaterThan(1000);
  for (const name of rowNames) expect(html).toContain(`<h2>${name}</h2>`);
  expect(html).not.toMatch(/(src|href)="http/);
  // The image filters and denormal sections stay.
  expect(results.images.map((r: { filter: string }) => r.filter)).toEqual(['gaussianBlur sigma 2', 'sobel magnitude', 'sharpen', 'filter2d 7x7 (not separable)']);
  for (const row of results.images) {
    for (const name of ['wasm-simd', 'wasm', 'js', 'pool(2)']) expect(row.results[name].ms).toBeGreaterThan(0);
  }
  expect(out).toContain('image filters on 160x120 RGBA');
  expect(results.denormals.map((d: { backend: string; algorithm: string }) => `${d.backend} ${d.algorithm}`)).toEqual([
    'wasm-simd direct', 'wasm-simd im2col', 'wasm direct', 'wasm im2col', 'js direct',
  ]);
  for (const d of results.denormals) expect(d.ratio).toBeGreaterThan(0);
}, 150_000);

describe('timeInterleaved behind a quiet-host gate', () => {
  /** A gate that answers from a list (then quiet), counting its probes. */
  const scripted = (answers: boolean[]) => ({ probes: 0, quiet() { return answers[this.probes++] ?? true; } });
  /** A step that counts its calls and takes `ms` each. */
  const step = (ms: number) => {
    const s = { calls: 0, run: async () => (s.calls++, ms) };
    return s;
  };

  it('retakes a call timed while the host was contended, before or after it', async () => {
    const a = step(1);
    const b = step(2);
    // Round 1: a is contended after its call once, then quiet; b quiet. Round 2: b contended before.
    const gate = scripted([true, false, true, true, true, true, true, true, false, true, true, true]);
    const [ma, mb] = await timeInterleaved([a.run, b.run], 2, 0, gate);
    expect(ma).toEqual({ times: [1, 1], retaken: 1, contended: 0 });
    expect(mb).toEqual({ times: [2, 2], retaken: 1, contended: 0 });
    // Warm-up once each, then per round a cache-warming call plus one timed call per take.
    expect(a.calls).toBe(1 + 2 + 3);
    expect(b.calls).toBe(1 + 2 + 3);
  });

  it('keeps a call as contended after six retakes, or once its retakes pass 250 ms', async () => {
    const never = { quiet: () => false };
    const [short] = await timeInterleaved([step(1).run], 1, 0, never);
    expect(short).toEqual({ times: [1], retaken: 6, contended: 1 });
    const [long] = await timeInterleaved([step(100).run], 1, 0, never);
    expect(long).toEqual({ times: [100], retaken: 2, contended: 1 });
  });

  it('times every call once without a gate', async () => {
    const a = step(3);
    expect(await timeInterleaved([a.run], 3, 0)).toEqual([{ times: [3, 3, 3], retaken: 0, contended: 0 }]);
    expect(a.calls).toBe(1 + 3 * 2);
  });
});

it('bench:browser --quick runs the same layers, runners and peers in headless Chromium', () => {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const out = execFileSync(process.execPath, ['bench/browser.mjs', '--quick'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  expect(out).toContain('HeadlessChrome');
  expect(out.split('\n').filter((l) => /^\| [SV]\d+ /.test(l))).toHaveLength(30);
  const results = JSON.parse(readFileSync(new URL('../bench/results/browser.json', import.meta.url), 'utf8'));
  expect(results.peak.gflops).toBeGreaterThan(0);
  expect(results.rows.map((r: { shape: string }) => r.shape)).toEqual(QUICK_ROWS);
  for (const row of results.rows) {
    expect(Object.keys(row.results)).toEqual(RUNNERS);
    expect(Object.keys(row.peers)).toEqual(PEERS);
    for (const name of ['wasm-simd', 'wasm', 'js', 'pool(1)', 'pool(2)']) {
      expect(row.results[name].ms).toBeGreaterThan(0);
      expect(row.results[name].times).toHaveLength(2);
      expect(row.results[name].retaken).toBeGreaterThanOrEqual(0);
    }
    // Cross-origin isolation gives onnxruntime-web its threads.
    for (const name of ['ort(1)', 'ort(2)']) expect(row.peers[name].ms, `${row.shape} ${name}`).toBeGreaterThan(0);
  }
  expect(readFileSync(new URL('../bench/results/browser-report.html', import.meta.url), 'utf8')).toContain('<h2>S10 (quick)</h2>');
}, 150_000);

describe('the ONNX writer', () => {
  ort.env.wasm.numThreads = 1;
  const sessions: ort.InferenceSession[] = [];
  afterAll(() => Promise.all(sessions.map((s) => s.release())));

  async function runOnnx(op: string, attributes: Record<string, number | number[]>, x: ReturnType<typeof tensor>, w: ReturnType<typeof tensor>, b: ReturnType<typeof tensor>, outputShape: number[]) {
    const model = singleNodeModel({ op, attributes, weight: w, bias: b, inputShape: x.shape, outputShape });
    const session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'] });
    sessions.push(session);
    const y = (await session.run({ X: new ort.Tensor('float32', x.data, x.shape) })).Y;
    return { data: y.data as Float32Array, shape: [...y.dims] };
  }

  it('gives onnxruntime-web a Conv (grouped, strided, dilated, uneven padding, bias) that matches convkit', async () => {
    const ck = await loadConvkit('js');
    const x = tensor([1, 4, 9, 11], 1);
    const w = tensor([6, 2, 3, 2], 2);
    const b = tensor([6], 3);
    const want = ck.conv2d(x, w, { groups: 2, stride: [2, 1], dilation: [1, 2], padding: [[1, 2], [0, 3]], bias: b, backend: 'js' });
    const got = await runOnnx('Conv', { kernel_shape: [3, 2], strides: [2, 1], dilations: [1, 2], pads: [1, 0, 2, 3], group: 2 }, x, w, b, want.shape);
    expect(got.shape).toEqual(want.shape);
    const { ok, detail } = compare(got, want);
    expect(ok, detail).toBe(true);
  });

  it('gives onnxruntime-web a ConvTranspose (grouped, strided, padded, bias) that matches convkit', async () => {
    const ck = await loadConvkit('js');
    const x = tensor([1, 4, 5, 6], 4);
    const w = tensor([4, 3, 4, 3], 5);
    const b = tensor([6], 6);
    const want = ck.convTranspose2d(x, w, { groups: 2, stride: 2, padding: [1, 0], bias: b, backend: 'js' });
    const got = await runOnnx('ConvTranspose', { kernel_shape: [4, 3], strides: [2, 2], pads: [1, 0, 1, 0], group: 2 }, x, w, b, want.shape);
    expect(got.shape).toEqual(want.shape);
    const { ok, detail } = compare(got, want);
    expect(ok, detail).toBe(true);
  });
});
