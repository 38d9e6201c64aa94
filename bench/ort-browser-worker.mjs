// onnxruntime-web in a browser module worker; the first message sets its wasm thread count.
import * as ort from '/node_modules/onnxruntime-web/dist/ort.wasm.min.mjs';
import { runOrtModel } from './ort-peer.mjs';

let ready;
self.onmessage = async ({ data }) => {
  if (ready === undefined) {
    ort.env.wasm.numThreads = data.threads;
    ready = true;
    self.postMessage({});
    return;
  }
  self.postMessage(await runOrtModel(ort, data));
};
