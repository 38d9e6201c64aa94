// convkit benchmark: every convolution kind (shapes S1-S10, then variants V1-V5) on convkit's wasm-SIMD, wasm-relaxed-SIMD,
// wasm-scalar and JS backends and pools of 1 and 2 workers, against TensorFlow.js (wasm, cpu) and
// onnxruntime-web (1 and 2 threads) on the same inputs, with the machine's wasm SIMD peak measured
// in the same run; then the image filters on an RGBA image and denormal inputs. Prints tables,
// writes bench/results/latest.json and bench/results/report.html.
//   node --experimental-wasm-relaxed-simd bench/run.mjs [--quick]   (npm run bench [-- --quick])
import { mkdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, platform } from 'node:os';
import { measurePeak, peakBinaries } from './peak.mjs';
import { openQuietGate } from './quiet.mjs';
import { otherCoreCanary } from './quiet-node.mjs';
import { loadPeers } from './peers.mjs';
import { htmlReport, printTables } from './report.mjs';
import { BENCH_SHAPES, QUICK_SHAPES } from './shapes.mjs';
import { convkitRunners, runConvSuite, runHeader } from './suite.mjs';
import { WARM_UP_MS, median, randomTensor, timeRuns } from './timing.mjs';

const quick = process.argv.includes('--quick');
const shapes = quick ? QUICK_SHAPES : BENCH_SHAPES;
const runs = { reps: quick ? 2 : 11, warmUpMs: quick ? 0 : WARM_UP_MS };
const time = async (fn) => median(await timeRuns(fn, runs.reps, runs.warmUpMs));

// Separate module instances, so the relaxed, SIMD and scalar builds are loaded side by side.
const RELAXED_FLAG = '--experimental-wasm-relaxed-simd';
const relaxed = await import('../dist/index.js?build=relaxed');
const simd = await import('../dist/index.js?build=simd');
const scalar = await import('../dist/index.js?build=scalar');
await relaxed.init();
await simd.init({ relaxed: false });
await scalar.init({ simd: false, relaxed: false });
const pool = await simd.createPool({ workers: 2 });
const onePool = await simd.createPool({ workers: 1 });
const runners = convkitRunners({ relaxed, simd, scalar, pool, onePool }, process.execArgv.includes(RELAXED_FLAG) ? undefined : `node runs without ${RELAXED_FLAG}`);

const binaries = await peakBinaries();
const peak = await measurePeak(binaries, { reps: runs.reps, callMs: quick ? 5 : 40 });
const canaryBytes = binaries.find((b) => b.accumulators === 12).bytes;
const gate = await openQuietGate(canaryBytes, otherCoreCanary(canaryBytes));
const peers = await loadPeers();
const rows = await runConvSuite({ shapes, runs, runners, peers, peakGflops: peak.gflops, gate, log: quick ? undefined : console.error });
await gate.close();

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
    const ms = await time(() => run(filter));
    row.results[runner] = { ms, mpixels: (image.width * image.height) / (ms * 1e3) };
  }
  images.push(row);
}
await Promise.all([pool.terminate(), onePool.terminate()]);

// Denormal inputs (|x| ~ 1e-39): x86 can take microcode assists on subnormal arithmetic; the same
// call with normal inputs is the baseline.
const denormalShape = quick ? { x: [1, 8, 24, 24], w: [8, 8, 3, 3] } : { x: [1, 32, 48, 48], w: [32, 32, 3, 3] };
const normalX = randomTensor(denormalShape.x, 3);
const denormalX = { data: normalX.data.map((v) => v * 1e-39), shape: normalX.shape };
const denormalW = randomTensor(denormalShape.w, 4);
const denormals = [];
const denormalRunners = [
  ['wasm-simd', (x, w, o) => simd.conv2d(x, w, o)],
  ['wasm', (x, w, o) => scalar.conv2d(x, w, o)],
  ['js', (x, w, o) => simd.conv2d(x, w, { ...o, backend: 'js' })],
];
for (const [name, run] of denormalRunners) {
  for (const algorithm of name === 'js' ? ['direct'] : ['direct', 'im2col']) {
    const opts = { padding: 1, algorithm };
    const normal = await time(() => run(normalX, denormalW, opts));
    const denormal = await time(() => run(denormalX, denormalW, opts));
    denormals.push({ backend: name, algorithm, normalMs: normal, denormalMs: denormal, ratio: denormal / normal });
  }
}

const environment = `node ${process.version} (V8 ${process.versions.v8}), ${platform()} ${arch()}, ${cpus()[0]?.model}, ${cpus().length} cores`;
const results = {
  ...runHeader({ environment, convkit: simd.backendInfo().version, quick, runs, peak, runners, peers }),
  rows,
  imageSize,
  images,
  denormalShape,
  denormals,
};
await Promise.all(peers.map((p) => p.close?.()));
printTables(results);
const dir = new URL('./results/', import.meta.url);
mkdirSync(dir, { recursive: true });
writeFileSync(new URL('latest.json', dir), JSON.stringify(results, null, 2));
writeFileSync(new URL('report.html', dir), htmlReport(results));
