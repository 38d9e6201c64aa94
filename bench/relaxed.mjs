// Relaxed SIMD vs SIMD128: conv2d on the two wasm builds, side by side in one process (separate
// module instances), interleaved rep by rep so machine noise hits both alike. Also reports whether
// this engine fuses f32x4.relaxed_madd (one rounding) or lowers it to a multiply then an add.
//   node --experimental-wasm-relaxed-simd bench/relaxed.mjs [--reps N]
import { performance } from 'node:perf_hooks';
import wabtInit from 'wabt';
import { SHAPES } from './shapes.mjs';

const repsAt = process.argv.indexOf('--reps');
const reps = repsAt > 0 ? Number(process.argv[repsAt + 1]) : 9;

const relaxed = await import('../dist/index.js?build=relaxed');
const simd = await import('../dist/index.js?build=simd');
await relaxed.init();
await simd.init({ relaxed: false });
if (!relaxed.backendInfo().relaxedSimd) {
  console.error('relaxed SIMD is not available here: run node with --experimental-wasm-relaxed-simd');
  process.exit(1);
}

/** 1 + 2^-12 squared is 1 + 2^-11 + 2^-24; minus (1 + 2^-11) that leaves 2^-24 when fused and 0
 * when the product is rounded to f32 first. */
async function madd_is_fused() {
  const wabt = await wabtInit();
  const wat = `(module (func (export "f") (result f32)
    (f32x4.extract_lane 0 (f32x4.relaxed_madd (f32x4.splat (f32.const 0x1.001p+0)) (f32x4.splat (f32.const 0x1.001p+0))
      (f32x4.splat (f32.const -0x1.002p+0))))))`;
  const bytes = wabt.parseWat('probe.wat', wat, { simd: true, relaxed_simd: true }).toBinary({}).buffer;
  const { instance } = await WebAssembly.instantiate(bytes);
  return instance.exports.f() !== 0;
}

function randomTensor(shape, seed) {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    data[i] = s / 2 ** 31 - 1;
  }
  return { data, shape };
}

const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

console.log(`f32x4.relaxed_madd fused on this engine and CPU: ${await madd_is_fused()}`);
console.log(`median of ${reps} interleaved reps, single thread`);
console.log(['shape', 'simd ms', 'simd GFLOP/s', 'relaxed ms', 'relaxed GFLOP/s', 'speed-up', 'max |diff|'].join('\t'));
for (const shape of SHAPES) {
  const x = randomTensor(shape.x, 1);
  const w = randomTensor(shape.w, 2);
  const a = relaxed.conv2d(x, w, shape.opts);
  const b = simd.conv2d(x, w, shape.opts);
  let diff = 0;
  for (let i = 0; i < a.data.length; i++) diff = Math.max(diff, Math.abs(a.data[i] - b.data[i]));
  const flops = 2 * a.data.length * shape.w[1] * shape.w[2] * shape.w[3];
  const times = { simd: [], relaxed: [] };
  for (let r = 0; r < reps; r++) {
    for (const [name, lib] of [['simd', simd], ['relaxed', relaxed]]) {
      const t0 = performance.now();
      lib.conv2d(x, w, shape.opts);
      times[name].push(performance.now() - t0);
    }
  }
  const [ms, msRelaxed] = [median(times.simd), median(times.relaxed)];
  const gflops = (t) => (flops / (t * 1e6)).toFixed(1);
  console.log([shape.name, ms.toFixed(2), gflops(ms), msRelaxed.toFixed(2), gflops(msRelaxed), (ms / msRelaxed).toFixed(2), diff.toExponential(1)].join('\t'));
}
