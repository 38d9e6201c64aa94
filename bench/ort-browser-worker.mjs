// onnxruntime-web in a browser module worker; the first message sets its wasm thread count.
import * as ort from '/node_modules/onnxruntime-web/dist/ort.wasm.min.mjs';
import { ortAnswerer } from './ort-peer.mjs';

let answer;
self.onmessage = async ({ data }) => {
  if (answer === undefined) {
    ort.env.wasm.numThreads = data.threads;
    answer = ortAnswerer(ort);
    self.postMessage({});
    return;
  }
  self.postMessage(await answer(data));
};
