// Timing and checking helpers shared by the benchmark's runners.

/** Warm-up before timing: V8 runs wasm (and JS) in a baseline tier first and moves hot functions to
 * its optimizing compiler only after they have run a while, in each thread on its own (a pool's
 * workers too). A long-running caller sees the steady state, so the suite calls every runner and
 * peer for `warmUpMs` (at least 3 and at most 40 calls) before timing it. */
export const WARM_UP_MS = 300;

/** Calls `fn` until it is warm: for `warmUpMs` (at least 3 and at most 40 calls), or once when 0. */
export async function warmUp(fn, warmUpMs) {
  const start = performance.now();
  const warm = (calls) => (warmUpMs ? calls >= 40 || (calls >= 3 && performance.now() - start >= warmUpMs) : calls >= 1);
  for (let calls = 0; !warm(calls); calls++) await fn();
}

/** The time of one call of `fn`, in ms. */
export async function timeCall(fn) {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** Times `reps` calls of `fn` after warming it up for `warmUpMs` (0: one call); returns the times in ms. */
export async function timeRuns(fn, reps, warmUpMs = 0) {
  await warmUp(fn, warmUpMs);
  const times = [];
  for (let i = 0; i < reps; i++) times.push(await timeCall(fn));
  return times;
}

/** A call timed on a contended host is timed again at most this many times, and only while the
 * retakes of one step in one round stay under RETAKE_BUDGET_MS (a long call averages a slow
 * stretch over its own length instead). */
const MAX_RETAKES = 6;
const RETAKE_BUDGET_MS = 250;

/**
 * Times `reps` rounds of `steps` (each an async function giving the ms of one call, timed where the
 * call runs), each warmed up first. A round calls every step, so a slow stretch of a shared host falls
 * on all of them alike instead of on whichever was timed then. Each step is called twice in a row
 * and the second call timed: the first brings its weights and buffers back into cache after the other
 * steps ran, so each is timed warm, as when it runs on its own (as the peers' own benchmarks time them).
 * With a `gate` (quiet.mjs), a call is timed again while the host was contended before or after it.
 * Returns per step the times, how many calls were `retaken`, and how many of the kept ones were
 * still `contended` (out of retakes).
 */
export async function timeInterleaved(steps, reps, warmUpMs, gate) {
  for (const step of steps) await warmUp(step, warmUpMs);
  const measured = steps.map(() => ({ times: [], retaken: 0, contended: 0 }));
  for (let round = 0; round < reps; round++) {
    for (const [i, step] of steps.entries()) {
      await step();
      const m = measured[i];
      for (let retakes = 0, spent = 0; ; retakes++) {
        const before = gate?.quiet() ?? true;
        const ms = await step();
        const quiet = before && (gate?.quiet() ?? true);
        spent += ms;
        if (quiet || retakes === MAX_RETAKES || spent > RETAKE_BUDGET_MS) {
          m.times.push(ms);
          m.contended += quiet ? 0 : 1;
          break;
        }
        m.retaken++;
      }
    }
  }
  return measured;
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
