// Timing and checking helpers shared by the benchmark's runners.

/** Warm-up before timing: V8 runs wasm (and JS) in a baseline tier first and moves hot functions to
 * its optimizing compiler only after they have run a while, in each thread on its own (a pool's
 * workers too). A long-running caller sees the steady state, so the suite calls every runner and
 * peer for `warmUpMs` (at least 3 and at most 40 calls) before timing it. */
export const WARM_UP_MS = 300;

/** Times `reps` calls of `fn` after warming it up for `warmUpMs` (0: one call); returns the times in ms. */
export async function timeRuns(fn, reps, warmUpMs = 0) {
  const start = performance.now();
  const warm = (calls) => (warmUpMs ? calls >= 40 || (calls >= 3 && performance.now() - start >= warmUpMs) : calls >= 1);
  for (let calls = 0; !warm(calls); calls++) await fn();
  const times = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return times;
}

export function median(times) {
  const sorted = [...times].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** The largest |a - b| / (1 + |b|): relative for large values, absolute near zero. */
export function maxRelDiff(a, b) {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])));
  return worst;
}

/** A deterministic tensor with values in [-1, 1). */
export function randomTensor(shape, seed) {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    data[i] = s / 2 ** 31 - 1;
  }
  return { data, shape };
}
