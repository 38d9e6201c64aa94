// Relaxed SIMD vs SIMD128: the benchmark layers on the two wasm builds, side by side in one process (separate
// module instances), run in pairs back to back (alternating which goes first) so machine noise hits
// both alike. Prints the median and best time of each and, as the speed-up, the median over the
// pairs of simd time / relaxed time (steadier than a ratio of medians on a shared, busy machine).
// Also reports whether this engine fuses f32x4.relaxed_madd (one rounding) or lowers it to a
// multiply then an add.
//   node --experimental-wasm-relaxed-simd bench/relaxed.mjs [--reps N] [--quick]
import { performance } from 'node:perf_hooks';
import wabtInit from 'wabt';
import { quickShapes, SHAPES, usefulMacs } from './shapes.mjs';
import { median, randomTensor } from './timing.mjs';

const quick = process.argv.includes('--quick');
const repsAt = process.argv.indexOf('--reps');
const reps = repsAt > 0 ? Number(process.argv[repsAt + 1]) : quick ? 2 : 21;

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

const best = (v) => Math.min(...v);

console.log(`f32x4.relaxed_madd fused on this engine and CPU: ${await madd_is_fused()}`);
console.log(`${reps} pairs of calls, single thread; ms and GFLOP/s as median / best`);
console.log(['shape', 'simd ms', 'relaxed ms', 'simd GFLOP/s', 'relaxed GFLOP/s', 'paired speed-up', 'max rel. diff'].join('\t'));
// The shapes: relaxed SIMD changes only the multiply-adds of convolutions.
for (const shape of quick ? quickShapes(SHAPES) : SHAPES) {
  const x = randomTensor(shape.x, 1);
  const w = randomTensor(shape.w, 2);
  const call = (lib) => lib[shape.op](x, w, shape.opts);
  const a = call(relaxed);
  const b = call(simd);
  let diff = 0;
  for (let i = 0; i < a.data.length; i++) diff = Math.max(diff, Math.abs(a.data[i] - b.data[i]) / (1 + Math.abs(b.data[i])));
  if (!(diff < 1e-4)) throw new Error(`the relaxed and SIMD128 builds disagree on ${shape.name}: ${diff}`);
  const flops = 2 * usefulMacs(shape, a.shape);
  // Warm-up: V8 compiles wasm with a baseline compiler first and optimizes hot functions later.
  for (let r = 0; r < 2; r++) for (const lib of [simd, relaxed]) call(lib);
  const times = { simd: [], relaxed: [] };
  for (let r = 0; r < reps; r++) {
    const pair = [['simd', simd], ['relaxed', relaxed]];
    for (const [name, lib] of r % 2 ? pair.reverse() : pair) {
      const t0 = performance.now();
      call(lib);
      times[name].push(performance.now() - t0);
    }
  }
  const both = (f, fmt) => `${fmt(f(median))} / ${fmt(f(best))}`;
  const ms = (name) => (stat) => stat(times[name]);
  const gflops = (name) => (stat) => flops / (stat(times[name]) * 1e6);
  const speedup = median(times.simd.map((t, r) => t / times.relaxed[r]));
  const fixed = (digits) => (v) => v.toFixed(digits);
  const cells = [both(ms('simd'), fixed(2)), both(ms('relaxed'), fixed(2)), both(gflops('simd'), fixed(1)), both(gflops('relaxed'), fixed(1)), speedup.toFixed(2)];
  console.log([shape.name, ...cells, diff.toExponential(1)].join('\t'));
}
