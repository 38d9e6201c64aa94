// onnxruntime-web in a Node worker thread with `workerData.threads` wasm threads.
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-web';
import { runOrtModel } from './ort-peer.mjs';

ort.env.wasm.numThreads = workerData.threads;
parentPort.on('message', async (message) => parentPort.postMessage(await runOrtModel(ort, message)));
