// The peers in Node: TensorFlow.js from node_modules, onnxruntime-web in worker threads.
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ortPeer } from './ort-peer.mjs';
import { loadTfjsPeers } from './tfjs-peer.mjs';

function nodeOrtPeer(threads) {
  const worker = new Worker(fileURLToPath(new URL('./ort-worker.mjs', import.meta.url)), { workerData: { threads } });
  const request = (message) =>
    new Promise((resolve, reject) => {
      worker.once('error', reject);
      worker.once('message', (reply) => {
        worker.off('error', reject);
        resolve(reply);
      });
      worker.postMessage(message);
    });
  return ortPeer(threads, request, () => worker.terminate());
}

/**
 * Every peer, loaded. A peer's `open(shape, x, w, outputShape)` prepares the layer and gives
 * `{ output, step, close }`: the output channels-first, `step()` timing one call (ms), `close()`
 * freeing it; it throws an Error saying why when it cannot run the shape.
 */
export async function loadPeers() {
  const tfjs = await loadTfjsPeers(fileURLToPath(new URL('../node_modules/@tensorflow/tfjs-backend-wasm/dist/', import.meta.url)));
  return [...tfjs, nodeOrtPeer(1), nodeOrtPeer(2)];
}
