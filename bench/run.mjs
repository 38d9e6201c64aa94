// convkit benchmark: conv2d on wasm-SIMD vs wasm-scalar vs JS (and the pool of 2 workers) over
// built-in shapes, then the image filters on an RGBA image. Prints a table of median ms and GFLOP/s and writes bench/results/latest.json.
//   node bench/run.mjs [--quick]
import { mkdirSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { QUICK_SHAPES, SHAPES } from './shapes.mjs';

const quick = process.argv.includes('--quick');
const shapes = quick ? QUICK_SHAPES : SHAPES;
const reps = quick ? 2 : 5;

// Separate module instances, so the SIMD and scalar builds are loaded side by side.
const simd = await import('../dist/index.js?build=simd');
const scalar = await import('../dist/index.js?build=scalar');
await simd.init();
await scalar.init({ simd: false });
const pool = await simd.createPool({ workers: 2 });

function randomTensor(shape, seed) {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    data[i] = s / 2 ** 31 - 1;
  }
  return { data, shape };
}

async function median(fn) {
  await fn(); // warm-up
  const times = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

function maxRelDiff(a, b) {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])));
  return worst;
}

const runners = [
  ['wasm-simd', (x, w, o) => simd.conv2d(x, w, o)],
  ['wasm', (x, w, o) => scalar.conv2d(x, w, o)],
  ['js', (x, w, o) => simd.conv2d(x, w, { ...o, backend: 'js' })],
  ['pool(2)', (x, w, o) => pool.conv2d(x, w, o)],
];

const rows = [];
for (const shape of shapes) {
  const x = randomTensor(shape.x, 1);
  const w = randomTensor(shape.w, 2);
  const reference = simd.conv2d(x, w, { ...shape.opts, backend: 'js' });
  const outPlane = reference.data.length;
  const macs = outPlane * shape.w[1] * shape.w[2] * shape.w[3];
  const row = { shape: shape.name, macs, results: {} };
  for (const [name, run] of runners) {
    const diff = maxRelDiff((await run(x, w, shape.opts)).data, reference.data);
    if (!(diff < 1e-3)) throw new Error(`${name} disagrees with the JS backend on ${shape.name}: ${diff}`);
    const ms = await median(() => run(x, w, shape.opts));
    row.results[name] = { ms, gflops: (2 * macs) / (ms * 1e6) };
  }
  rows.push(row);
}

// Image filters on an RGBA image (what the playground and the CLI run): whole calls, conversion
// to and from bytes included.
const imageSize = quick ? [160, 120] : [1920, 1080];
const image = { data: new Uint8ClampedArray(imageSize[0] * imageSize[1] * 4), width: imageSize[0], height: imageSize[1] };
for (let i = 0, s = 7; i < image.data.length; i++) {
  s = (s * 1664525 + 1013904223) >>> 0;
  image.data[i] = (s >>> 24) / 2 + ((i >> 2) % imageSize[0]) / 16;
}
const custom7x7 = Array.from({ length: 7 }, (_, r) => Array.from({ length: 7 }, (_, c) => ((r * 7 + c) % 5) / 40 - 0.04));
const imageFilters = [
  ['gaussianBlur sigma 2', (lib, o) => lib.gaussianBlur(image, 2, o)],
  ['sobel magnitude', (lib, o) => lib.sobel(image, o)],
  ['sharpen', (lib, o) => lib.sharpen(image, o)],
  ['filter2d 7x7 (not separable)', (lib, o) => lib.filter2d(image, custom7x7, o)],
];
const imageRunners = [
  ['wasm-simd', (f) => f(simd, {})],
  ['wasm', (f) => f(scalar, {})],
  ['js', (f) => f(simd, { backend: 'js' })],
  ['pool(2)', (f) => f(pool, {})],
];
const images = [];
for (const [name, filter] of imageFilters) {
  const reference = filter(simd, { backend: 'js' }).data;
  const row = { filter: name, results: {} };
  for (const [runner, run] of imageRunners) {
    const got = (await run(filter)).data;
    // float32 sums in another order may round a value that sits on a tie the other way.
    const worst = got.reduce((m, v, i) => Math.max(m, Math.abs(v - reference[i])), 0);
    if (worst > 1) throw new Error(`${runner} disagrees with the JS backend on ${name}: ${worst}`);
    const ms = await median(() => run(filter));
    row.results[runner] = { ms, mpixels: (image.width * image.height) / (ms * 1e3) };
  }
  images.push(row);
}
await pool.terminate();

// Denormal inputs (|x| ~ 1e-39): x86 can take microcode assists on subnormal arithmetic; the same
// call with normal inputs is the baseline.
const denormalShape = quick ? { x: [1, 8, 24, 24], w: [8, 8, 3, 3] } : { x: [1, 32, 48, 48], w: [32, 32, 3, 3] };
const normalX = randomTensor(denormalShape.x, 3);
const denormalX = { data: normalX.data.map((v) => v * 1e-39), shape: normalX.shape };
const denormalW = randomTensor(denormalShape.w, 4);
const denormals = [];
for (const [name, run] of runners.filter(([n]) => n !== 'pool(2)')) {
  for (const algorithm of name === 'js' ? ['direct'] : ['direct', 'im2col']) {
    const opts = { padding: 1, algorithm };
    const normal = await median(() => run(normalX, denormalW, opts));
    const denormal = await median(() => run(denormalX, denormalW, opts));
    denormals.push({ backend: name, algorithm, normalMs: normal, denormalMs: denormal, ratio: denormal / normal });
  }
}

const header = ['shape', 'MMACs', ...runners.map(([n]) => `${n} ms (GFLOP/s)`), 'simd/js'];
const table = rows.map((r) => [
  r.shape,
  (r.macs / 1e6).toFixed(1),
  ...runners.map(([n]) => `${r.results[n].ms.toFixed(2)} (${r.results[n].gflops.toFixed(2)})`),
  `${(r.results.js.ms / r.results['wasm-simd'].ms).toFixed(1)}x`,
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i].length)));
const line = (cells) => '| ' + cells.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
console.log(`convkit ${simd.backendInfo().version} conv2d, median of ${reps} runs, node ${process.version}, single call (pool: 2 workers)`);
console.log(line(header));
console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
for (const t of table) console.log(line(t));
console.log(`\nimage filters on ${image.width}x${image.height} RGBA (rgb filtered, alpha copied), ms (Mpixel/s):`);
const imageTable = images.map((r) => [r.filter, ...imageRunners.map(([n]) => `${r.results[n].ms.toFixed(1)} (${r.results[n].mpixels.toFixed(1)})`)]);
const imageHeader = ['filter', ...imageRunners.map(([n]) => n)];
const imageWidths = imageHeader.map((h, i) => Math.max(h.length, ...imageTable.map((t) => t[i].length)));
const imageLine = (cells) => '| ' + cells.map((c, i) => c.padEnd(imageWidths[i])).join(' | ') + ' |';
console.log(imageLine(imageHeader));
console.log('|' + imageWidths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
for (const t of imageTable) console.log(imageLine(t));
console.log(`\ndenormal inputs, conv2d x [${denormalShape.x}] w [${denormalShape.w}] (ms normal -> denormal):`);
for (const d of denormals) console.log(`  ${d.backend} ${d.algorithm}: ${d.normalMs.toFixed(2)} -> ${d.denormalMs.toFixed(2)} (${d.ratio.toFixed(2)}x)`);

mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/latest.json', import.meta.url), JSON.stringify({ date: new Date().toISOString(), node: process.version, quick, reps, rows, images, denormals }, null, 2));
