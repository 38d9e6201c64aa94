// Calibrates the planner's 'auto' rule (crates/convkit-core/src/plan.rs) on this machine: sweeps
// each decision the rule makes, times every algorithm that can serve each point on the wasm-SIMD
// build, and finds where the winner changes. Writes the thresholds to
// crates/convkit-core/src/calibration.rs, and the pool's split thresholds (where two workers start
// to beat one) to ts/pool/split-calibration.ts (rebuild to use them), unless run with --check;
// then shows auto against the fastest explicit algorithm on the benchmark layers S1-S10.
//   npm run calibrate [-- --check]
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { SHAPES } from './shapes.mjs';
import { median, randomTensor, timeRuns } from './timing.mjs';

const check = process.argv.includes('--check');
// The fastest of several calls: on a shared machine the minimum is the steadiest estimate of a
// call's own cost (allocation and scheduling noise only ever add).
const reps = 9;
const ck = await import('../dist/index.js');
await ck.init({ relaxed: false });
if (ck.backendInfo().backend !== 'wasm-simd') throw new Error('calibration needs the wasm-SIMD build');

/** Fastest ms of `op` with each algorithm (those that cannot serve the call are left out). */
async function timeAlgorithms(op, xShape, wShape, opts, algorithms) {
  const x = randomTensor(xShape, 1);
  const w = randomTensor(wShape, 2);
  const ms = {};
  for (const algorithm of algorithms) {
    try {
      ck[op](x, w, { ...opts, algorithm });
    } catch (e) {
      if (e?.code === 'UNSUPPORTED') continue;
      throw e;
    }
    ms[algorithm] = Math.min(...(await timeRuns(() => ck[op](x, w, { ...opts, algorithm }), reps)));
  }
  return ms;
}

/** Times one sweep point and prints it; true when `challenger` beats the best of `incumbents`. */
async function challengerWins(p, challenger, incumbents) {
  const ms = await timeAlgorithms(p.op ?? 'conv2d', p.x, p.w, p.opts ?? {}, [challenger, ...incumbents]);
  const wins = ms[challenger] < Math.min(...incumbents.map((a) => ms[a] ?? Infinity));
  console.log(`  ${p.label.padEnd(28)} ${Object.entries(ms).map(([a, t]) => `${a} ${t.toFixed(2)} ms`).join(', ')}${wins ? `  -> ${challenger}` : ''}`);
  return wins;
}

/** Runs a sweep of points (in increasing size) and returns the first point from which `challenger`
 * beats the best of `incumbents` at every later point (undefined when it never does). */
async function sweep(name, points, challenger, incumbents) {
  console.log(`\n${name}: ${challenger} vs ${incumbents.join('/')}`);
  const wins = [];
  for (const p of points) wins.push(await challengerWins(p, challenger, incumbents));
  const from = wins.findIndex((_, i) => wins.slice(i).every(Boolean));
  return from < 0 ? undefined : points[from];
}

/** The last point at which `challenger` still beats the incumbents, from the start (undefined when
 * it loses at the first). */
async function sweepDown(name, points, challenger, incumbents) {
  console.log(`\n${name}: ${challenger} vs ${incumbents.join('/')}`);
  let last;
  for (const p of points) {
    if (!(await challengerWins(p, challenger, incumbents))) break;
    last = p;
  }
  return last;
}

const sq = (c, k, size, extra = {}) => ({ label: `${c}->${c} ${k}x${k} ${size}x${size}`, x: [1, c, size, size], w: [c, c, k, k], opts: { padding: (k - 1) / 2, ...extra }, c });

// Winograd: channels (3x3 on 56x56), then the output positions it needs (64 channels).
const winogradChannels = await sweep('winograd, channels per group (112x112)', [2, 4, 8, 16, 32].map((c) => sq(c, 3, 112)), 'winograd', ['direct', 'im2col']);
const winogradPositions = await sweep(
  'winograd, output positions',
  [6, 8, 10, 14, 20, 28].map((s) => ({ ...sq(64, 3, s), positions: s * s })),
  'winograd',
  ['direct', 'im2col'],
);
// Direct tiles against GEMM where Winograd does not apply (5x5, stride 1), by channels.
const directChannels = await sweepDown('direct, channels per group (5x5 stride 1, 96x96)', [2, 4, 8, 12, 16, 24, 32].map((c) => sq(c, 5, 96)), 'direct', ['im2col']);
// Depthwise: depth multipliers on 16 input channels.
const depthMultiplier = await sweepDown(
  'depthwise, depth multiplier',
  [1, 2, 4, 8, 16, 32].map((m) => ({ label: `16 ch x${m} 3x3 112x112`, x: [1, 16, 112, 112], w: [16 * m, 1, 3, 3], opts: { padding: 1, groups: 16 }, m })),
  'direct',
  ['im2col'],
);
// FFT: square kernels on one channel, then 1-D kernels on a long signal.
const fftSide = await sweep('fft, kernel side (1 channel 512x512)', [3, 5, 7, 9, 11, 15].map((k) => ({ ...sq(1, k, 512), k })), 'fft', ['direct', 'im2col']);
const fftTaps = await sweep(
  'fft, 1-D kernel taps (4 channels, 65536 samples)',
  [8, 16, 32, 64, 128].map((k) => ({ label: `4->4 k${k} L65536`, op: 'conv1d', x: [1, 4, 65536], w: [4, 4, k], opts: { padding: 'same' }, k })),
  'fft',
  ['direct', 'im2col'],
);

const never = 1 << 30;
const thresholds = {
  WINOGRAD_MIN_CHANNELS: [winogradChannels?.c ?? never, 'Winograd for 3x3 stride 1 from this many input and output channels per group'],
  WINOGRAD_MIN_POSITIONS: [winogradPositions?.positions ?? never, 'and from this many output positions per call (batch x plane)'],
  DIRECT_MAX_CHANNEL_PRODUCT: [directChannels ? directChannels.c ** 2 : 0, 'direct tiles over GEMM at stride 1 up to this Cin/g x Cout/g'],
  DIRECT_MAX_DEPTH_MULTIPLIER: [depthMultiplier?.m ?? 0, 'depthwise tiles over GEMM up to this depth multiplier'],
  FFT_MIN_KERNEL_SIDE: [fftSide?.k ?? never, 'FFT for 2-D kernels at least this wide and tall (stride 1)'],
  FFT_MIN_KERNEL_TAPS_1D: [fftTaps?.k ?? never, 'FFT for 1-D kernels of at least this many taps (stride 1)'],
};
console.log('\nthresholds:');
for (const [name, [value, why]] of Object.entries(thresholds)) console.log(`  ${name} = ${value === never ? 'never' : value}  (${why})`);

if (!check) {
  const source = `//! The planner's thresholds for \`Algorithm::Auto\`, measured by \`npm run calibrate\`
//! (bench/calibrate.mjs): each is where the fastest algorithm changed in a sweep on wasm-SIMD.
//! Generated on ${new Date().toISOString().slice(0, 10)}, ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}; do not edit by hand.

${Object.entries(thresholds)
  .map(([name, [value, why]]) => `/// ${why[0].toUpperCase()}${why.slice(1)}.\npub const ${name}: usize = ${value};`)
  .join('\n')}
`;
  writeFileSync(new URL('../crates/convkit-core/src/calibration.rs', import.meta.url), source);
  console.log('wrote crates/convkit-core/src/calibration.rs (rebuild: npm run build)');
}

// The pool's split thresholds: per kind of work, where two workers (every call split) start to beat
// one worker. Medians of interleaved calls: what a caller waits, messaging and page faults included.
const splitPoints = {
  gemm: [4, 8, 12, 16, 24, 32, 48, 64].map((c) => ({ label: `${c}->64 3x3 56x56`, x: [1, c, 56, 56], w: [64, c, 3, 3], opts: { padding: 1 }, work: 64 * 56 * 56 * c * 9 })),
  perChannel: [32, 64, 128, 256, 512, 1024].map((c) => ({ label: `depthwise ${c} ch 3x3 56x56`, x: [1, c, 56, 56], w: [c, 1, 3, 3], opts: { padding: 1, groups: c }, work: c * 56 * 56 * 9 })),
  pool: [8, 16, 32, 64, 128, 256].map((c) => ({ label: `maxPool 3x3 s2 ${c} ch 112x112`, op: 'maxPool2d', x: [1, c, 112, 112], opts: { kernelSize: 3, stride: 2, padding: 1 }, work: c * 56 * 56 * 9 })),
  // A 3x3 kernel that is not rank 1 (9 taps per pixel and RGB channel) on RGBA images.
  image: [48, 64, 96, 128, 192, 256, 384, 512, 768].map((side) => ({ label: `filter2d 3x3 ${side}x${side}`, op: 'filter2d', image: side, work: side * side * 3 * 9 })),
};
const IMAGE_KERNEL = [[1, 2, 3], [4, 5, 6], [7, 8, 10]];
const pools = [await ck.createPool({ workers: 1 }), await ck.createPool({ workers: 2, minWorkToSplit: 0 })];
/** Median ms of each pool on every point. The sweep is gone over several times (a few calls per
 * point each time, after warm-up calls that fill the pool's buffer stash with the point's sizes), so
 * a slow stretch of a shared host lands on every point alike instead of on one. */
async function timePools(points, passes = 4, calls = 10) {
  const runs = points.map((p) => {
    if (p.image) {
      const image = { data: Uint8ClampedArray.from(randomTensor([p.image * p.image * 4], 1).data, (v) => 128 + 100 * v), width: p.image, height: p.image };
      return pools.map((pool) => () => pool.filter2d(image, IMAGE_KERNEL));
    }
    const x = randomTensor(p.x, 1);
    const w = p.w && randomTensor(p.w, 2);
    return pools.map((pool) => () => (w ? pool[p.op ?? 'conv2d'](x, w, p.opts) : pool[p.op](x, p.opts)));
  });
  const times = runs.map((perPool) => perPool.map(() => []));
  for (let pass = 0; pass < passes; pass++) {
    for (const [i, perPool] of runs.entries()) {
      for (let call = -3; call < calls; call++) {
        for (const [k, run] of perPool.entries()) {
          const start = performance.now();
          await run();
          if (call >= 0) times[i][k].push(performance.now() - start);
        }
      }
    }
  }
  return times.map((perPool) => perPool.map(median));
}
const splitMinWork = {};
for (const [kind, points] of Object.entries(splitPoints)) {
  console.log(`\nsplit ${kind}: 2 workers (split) vs 1`);
  const medians = await timePools(points);
  const gains = medians.map(([one, two]) => one / two);
  points.forEach((p, i) => {
    const [one, two] = medians[i];
    console.log(`  ${p.label.padEnd(28)} work ${(p.work / 1e6).toFixed(1)}M: 1 worker ${one.toFixed(2)} ms, 2 workers ${two.toFixed(2)} ms (${gains[i].toFixed(2)}x)`);
  });
  // The first point where two workers win and go on winning at most later points: near the
  // crossover the medians of a shared host flip either way.
  const from = gains.findIndex((g, i) => g > 1 && median(gains.slice(i)) > 1);
  splitMinWork[kind] = from < 0 ? Infinity : points[from].work;
  console.log(`  -> split from ${splitMinWork[kind]}`);
}
await Promise.all(pools.map((pool) => pool.terminate()));
if (!check) {
  const source = `// The pool's split thresholds by kind of work (split.ts): the least work (multiply-adds; output
// elements x window for pooling; pixels x channels x taps for image filters) from which two
// workers beat one in a sweep, measured by
// \`npm run calibrate\` (bench/calibrate.mjs) on ${new Date().toISOString().slice(0, 10)}, ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}; do not edit by hand.
export const SPLIT_MIN_WORK = {
${Object.entries(splitMinWork).map(([kind, work]) => `  ${kind}: ${work},`).join('\n')}
} as const;
`;
  writeFileSync(new URL('../ts/pool/split-calibration.ts', import.meta.url), source);
  console.log('wrote ts/pool/split-calibration.ts (rebuild: npm run build)');
}

// How close 'auto' (as built) comes to the fastest explicit algorithm on the benchmark layers.
console.log('\nauto against the fastest explicit algorithm (as built):');
for (const shape of SHAPES.filter((s) => s.op !== 'convTranspose2d')) {
  const ms = await timeAlgorithms(shape.op, shape.x, shape.w, shape.opts, ['auto', 'direct', 'im2col', 'winograd', 'fft']);
  const [bestName, best] = Object.entries(ms).filter(([a]) => a !== 'auto').sort((a, b) => a[1] - b[1])[0];
  console.log(`  ${shape.name.padEnd(40)} auto ${ms.auto.toFixed(2)} ms, fastest ${bestName} ${best.toFixed(2)} ms (auto/fastest ${(ms.auto / best).toFixed(2)})`);
}
