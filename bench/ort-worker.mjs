// onnxruntime-web in a Node worker thread with `workerData.threads` wasm threads.
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-web';
import { ortAnswerer } from './ort-peer.mjs';

ort.env.wasm.numThreads = workerData.threads;
const answer = ortAnswerer(ort);
parentPort.on('message', async (message) => parentPort.postMessage(await answer(message)));
