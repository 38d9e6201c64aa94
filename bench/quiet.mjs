// The quiet-host gate. This VM's cores are lent to neighbours now and then: for stretches of
// milliseconds to seconds a core runs every call up to 2x slower, whichever library it is. A
// short fixed SIMD loop (a peak kernel, see peak.mjs) is timed on each core before and after
// every timed call; a call timed while either core ran the loop over QUIET_RATIO x its best is
// timed again (timing.mjs), so every runner and peer is measured on an uncontended host.

/** A canary call: ~0.25 ms of the 12-accumulator peak loop here. Long enough to time with
 * performance.now(), short next to the calls it checks. */
const CANARY_ITERATIONS = 30_000;

/** A core whose canary runs over this ratio of its best is contended: quiet stretches measure
 * within 1.1x, contended ones 1.3-2x (checked against S2's own times in both). */
export const QUIET_RATIO = 1.1;

/** Times one canary call (ms), from a peak-loop module's bytes. */
export async function canary(bytes) {
  const { instance } = await WebAssembly.instantiate(bytes);
  const run = instance.exports.run;
  run(CANARY_ITERATIONS);
  return () => {
    // A core that was idle runs the loop slower for its first tens of microseconds (it was halted
    // and is being woken): an untimed lead-in keeps that out of the reading.
    run(CANARY_ITERATIONS / 4);
    const t0 = performance.now();
    run(CANARY_ITERATIONS);
    return performance.now() - t0;
  };
}

/**
 * `{ quiet(), close() }`: `quiet()` times the canary on this thread and, at the same moment, on
 * `otherCore` (`{ start(), finish() -> ms, close() }`, a helper thread; absent: this core only) and
 * says whether both ran within QUIET_RATIO of their best so far.
 */
export async function openQuietGate(bytes, otherCore) {
  const own = await canary(bytes);
  const best = [Infinity, Infinity];
  const probe = () => {
    otherCore?.start();
    const times = [own(), otherCore ? otherCore.finish() : 0];
    times.forEach((t, i) => (best[i] = Math.min(best[i], t)));
    return times.every((t, i) => t <= QUIET_RATIO * best[i]);
  };
  // The best times so far are the reference: a few probes set them before the first call is timed.
  for (let i = 0; i < 30; i++) probe();
  return { quiet: probe, close: () => otherCore?.close() };
}
