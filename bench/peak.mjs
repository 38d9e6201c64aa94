// The machine's wasm SIMD128 multiply-add peak, measured in the same run as the convolutions: a
// loop of independent acc = acc * m + c chains (f32x4.mul then f32x4.add) over several accumulator
// counts. Few accumulators are bound by the mul+add latency, many by spills; the best count is the peak.
import { median, timeRuns } from './timing.mjs';

const UNROLL = 4;

function peakWat(accumulators) {
  const acc = Array.from({ length: accumulators }, (_, i) => `$a${i}`);
  const step = acc.map((a) => `(local.set ${a} (f32x4.add (f32x4.mul (local.get ${a}) (local.get $m)) (local.get $c)))`);
  const sum = acc.slice(1).reduce((s, a) => `(f32x4.add ${s} (local.get ${a}))`, `(local.get ${acc[0]})`);
  return `(module
  (func (export "run") (param $n i32) (result f32)
    (local $m v128) (local $c v128) ${acc.map((a) => `(local ${a} v128)`).join(' ')}
    ;; the chains converge to c / (1 - m) = 1: no overflow, no denormals
    (local.set $m (f32x4.splat (f32.const 0.999)))
    (local.set $c (f32x4.splat (f32.const 0.001)))
    (loop $body
      ${Array(UNROLL).fill(step.join('\n      ')).join('\n      ')}
      (br_if $body (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (f32x4.extract_lane 0 ${sum})))`;
}

/** The peak loop for each accumulator count as wasm bytes (compiled with wabt, in Node). */
export async function peakBinaries(counts = [4, 8, 12, 16]) {
  const wabt = await (await import('wabt')).default();
  return counts.map((accumulators) => {
    const module = wabt.parseWat(`peak${accumulators}.wat`, peakWat(accumulators), { simd: true });
    const { buffer } = module.toBinary({});
    module.destroy();
    return { accumulators, bytes: buffer };
  });
}

/**
 * `{ gflops, byAccumulators: [{ accumulators, gflops }] }` from peakBinaries' modules: 8 flops
 * (4 lanes x mul + add) per chain step; each count is timed on `reps` calls of about `callMs` ms.
 */
export async function measurePeak(binaries, { reps = 5, callMs = 40 } = {}) {
  const byAccumulators = [];
  for (const { accumulators, bytes } of binaries) {
    const { instance } = await WebAssembly.instantiate(bytes);
    const flopsPerIteration = 8 * accumulators * UNROLL;
    // Size the call from a short probe, so every count runs about callMs.
    const probe = 20_000;
    const probeMs = Math.max(median(await timeRuns(() => instance.exports.run(probe), 3)), 1e-3);
    // V8 starts in its baseline compiler and swaps in optimized code in the background.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const iterations = Math.max(1000, Math.round((probe * callMs) / probeMs));
    // The fastest call: a peak is what the core can do when nothing else runs on it.
    const ms = Math.min(...(await timeRuns(() => instance.exports.run(iterations), reps)));
    byAccumulators.push({ accumulators, gflops: (flopsPerIteration * iterations) / (ms * 1e6) });
  }
  return { gflops: Math.max(...byAccumulators.map((b) => b.gflops)), byAccumulators };
}
