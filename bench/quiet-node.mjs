// The quiet gate's helper thread in Node: it runs the canary when the main thread asks, through
// a SharedArrayBuffer, so both cores run theirs at the same moment (see quiet.mjs).
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { canary } from './quiet.mjs';

/** Signal words: [requests, answers]; the answer's time follows as a float64. */
const REQUESTS = 0;
const ANSWERS = 1;

/** The helper for openQuietGate: a worker thread timing the canary on request. */
export function otherCoreCanary(bytes) {
  const signal = new SharedArrayBuffer(16);
  const words = new Int32Array(signal, 0, 2);
  const time = new Float64Array(signal, 8, 1);
  const worker = new Worker(new URL(import.meta.url), { workerData: { bytes, signal } });
  worker.unref();
  return {
    start() {
      Atomics.add(words, REQUESTS, 1);
      Atomics.notify(words, REQUESTS);
    },
    /** The helper's canary time, or Infinity (not quiet) if it does not answer within a second. */
    finish() {
      const want = Atomics.load(words, REQUESTS);
      const deadline = performance.now() + 1000;
      for (let got; (got = Atomics.load(words, ANSWERS)) !== want; ) {
        if (performance.now() > deadline) return Infinity;
        Atomics.wait(words, ANSWERS, got, 100);
      }
      return time[0];
    },
    close: () => worker.terminate(),
  };
}

if (!isMainThread) {
  const words = new Int32Array(workerData.signal, 0, 2);
  const time = new Float64Array(workerData.signal, 8, 1);
  const run = await canary(workerData.bytes);
  for (let served = 0; ; ) {
    Atomics.wait(words, REQUESTS, served);
    served = Atomics.load(words, REQUESTS);
    time[0] = run();
    Atomics.store(words, ANSWERS, served);
    Atomics.notify(words, ANSWERS);
  }
}
