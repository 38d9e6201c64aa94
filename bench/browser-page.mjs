// The benchmark page (bundled by bench/browser.mjs): the same conv suite as in Node, in the browser.
// convkit comes unbundled from /dist/ (three module instances), onnxruntime-web runs in module workers.
import { measurePeak } from './peak.mjs';
import { ortPeer } from './ort-peer.mjs';
import { openQuietGate } from './quiet.mjs';
import { BENCH_SHAPES, QUICK_SHAPES } from './shapes.mjs';
import { convkitRunners, runConvSuite, runHeader } from './suite.mjs';
import { loadTfjsPeers } from './tfjs-peer.mjs';
import { WARM_UP_MS } from './timing.mjs';

async function browserOrtPeer(threads) {
  const worker = new Worker(new URL('/bench/ort-browser-worker.mjs', location.href), { type: 'module' });
  const request = (message) =>
    new Promise((resolve, reject) => {
      worker.onmessage = ({ data }) => resolve(data);
      worker.onerror = (e) => reject(new Error(e.message));
      worker.postMessage(message);
    });
  await request({ threads });
  return ortPeer(threads, request, () => worker.terminate());
}

/** Runs the suite; `peakBinaries` come from Node (wabt), as `{ accumulators, bytes: number[] }`. */
window.runBench = async ({ quick, peakBinaries }) => {
  const runs = { reps: quick ? 2 : 11, warmUpMs: quick ? 0 : WARM_UP_MS };
  const dist = new URL('/dist/index.js', location.href).href;
  const [relaxed, simd, scalar] = await Promise.all(['relaxed', 'simd', 'scalar'].map((build) => import(`${dist}?build=${build}`)));
  await relaxed.init();
  await simd.init({ relaxed: false });
  await scalar.init({ simd: false, relaxed: false });
  const pool = await simd.createPool({ workers: 2 });
  const onePool = await simd.createPool({ workers: 1 });
  const binaries = peakBinaries.map(({ accumulators, bytes }) => ({ accumulators, bytes: Uint8Array.from(bytes) }));
  const peak = await measurePeak(binaries, { reps: runs.reps, callMs: quick ? 5 : 40 });
  const peers = [...(await loadTfjsPeers('/node_modules/@tensorflow/tfjs-backend-wasm/dist/')), await browserOrtPeer(1), await browserOrtPeer(2)];
  const runners = convkitRunners({ relaxed, simd, scalar, pool, onePool });
  // The page's own core only: a canary thread would need SharedArrayBuffer (cross-origin isolation).
  const gate = await openQuietGate(binaries.find((b) => b.accumulators === 12).bytes);
  const rows = await runConvSuite({ shapes: quick ? QUICK_SHAPES : BENCH_SHAPES, runs, runners, peers, peakGflops: peak.gflops, gate });
  await Promise.all([pool.terminate(), onePool.terminate()]);
  await Promise.all(peers.map((p) => p.close?.()));
  const environment = `${navigator.userAgent}, ${navigator.hardwareConcurrency} cores`;
  return { ...runHeader({ environment, convkit: simd.backendInfo().version, quick, runs, peak, runners, peers }), rows };
};
