// TensorFlow.js as a peer (its wasm backend single-threaded, and its plain JS cpu backend):
// channels-last inputs and tfjs filter layouts made outside the timed region, the output brought
// back to channels-first for the check.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { timeCall } from './timing.mjs';

// Permutations from channels-first to tfjs's channels-last (and back), and from PyTorch weights
// to tfjs filters, by spatial rank.
const TO_LAST = { 1: [0, 2, 1], 2: [0, 2, 3, 1], 3: [0, 2, 3, 4, 1] };
const TO_FIRST = { 1: [0, 2, 1], 2: [0, 3, 1, 2], 3: [0, 4, 1, 2, 3] };
// conv [O, I, ...k] -> [...k, I, O]; transposed conv [I, O, ...k] -> [...k, O, I] (same permutation).
const FILTER = { 1: [2, 1, 0], 2: [2, 3, 1, 0], 3: [2, 3, 4, 1, 0] };
// depthwise [C, 1, kh, kw] -> [kh, kw, C, 1]
const DEPTHWISE_FILTER = [2, 3, 0, 1];

const scalarOf = (v) => (Array.isArray(v) ? v[0] : v ?? 1);

/**
 * tfjs's pad argument: 'same' or 'valid' where they mean the same as the symmetric padding (tfjs's
 * conv1d mis-sizes a numeric pad with dilation, and conv3d has no numeric pad), else the number.
 */
function tfjsPad(shape) {
  const pad = scalarOf(shape.opts.padding ?? 0);
  const reach = scalarOf(shape.opts.dilation) * (shape.w[2] - 1);
  if (pad === 0) return 'valid';
  if (scalarOf(shape.opts.stride) === 1 && 2 * pad === reach) return 'same';
  if (shape.x.length === 5) throw new Error(`tfjs conv3d has no explicit padding (${pad})`);
  return pad;
}

/** tfjs's pooling call (maxPool, avgPool, maxPool3d, avgPool3d) with PyTorch's symmetric padding. */
function tfjsPooling(shape) {
  const [kind, rank] = [shape.op.slice(0, 3), shape.x.length - 2];
  if (rank === 1) throw new Error('tfjs has no 1D pooling');
  const { kernelSize, stride = kernelSize, padding = 0 } = shape.opts;
  if (rank === 3) {
    if (padding) throw new Error('tfjs 3D pooling has no explicit padding');
    return { run: (x) => tf[`${kind}Pool3d`](x, kernelSize, stride, 'valid', undefined, 'NDHWC') };
  }
  return { run: (x) => tf[`${kind}Pool`](x, kernelSize, stride, padding === 0 ? 'valid' : padding) };
}

/** The tfjs call for a shape (inputs already channels-last), or an Error saying why tfjs has none. */
function tfjsCall(shape, outputShape) {
  if (!shape.w) return tfjsPooling(shape);
  const rank = shape.x.length - 2;
  const stride = scalarOf(shape.opts.stride);
  const dilation = scalarOf(shape.opts.dilation);
  const groups = shape.opts.groups ?? 1;
  const depthwise = groups > 1 && groups === shape.x[1] && shape.w[1] === 1;
  if (groups > 1 && !depthwise) throw new Error('tfjs has no grouped convolution (only depthwise)');
  if (shape.op === 'convTranspose2d') {
    // The pad of the forward convolution this transposes (tfjs's 'same' would differ).
    const outLast = TO_LAST[2].map((a) => outputShape[a]);
    const pad = scalarOf(shape.opts.padding ?? 0);
    return { filterPerm: FILTER[2], run: (x, f) => tf.conv2dTranspose(x, f, outLast, stride, pad) };
  }
  const pad = tfjsPad(shape);
  if (depthwise) return { filterPerm: DEPTHWISE_FILTER, run: (x, f) => tf.depthwiseConv2d(x, f, stride, pad, 'NHWC', dilation) };
  if (rank === 1) return { filterPerm: FILTER[1], run: (x, f) => tf.conv1d(x, f, stride, pad, 'NWC', dilation) };
  if (rank === 2) return { filterPerm: FILTER[2], run: (x, f) => tf.conv2d(x, f, stride, pad, 'NHWC', dilation) };
  return { filterPerm: FILTER[3], run: (x, f) => tf.conv3d(x, f, stride, pad, 'NDHWC', dilation) };
}

function tfjsPeer(name, backend) {
  return {
    name,
    threads: 1,
    async open(shape, x, w, outputShape) {
      await tf.setBackend(backend);
      const call = tfjsCall(shape, outputShape);
      const rank = shape.x.length - 2;
      const [xLast, filter] = tf.tidy(() => [
        tf.transpose(tf.tensor(x.data, x.shape), TO_LAST[rank]),
        w && tf.transpose(tf.tensor(w.data, w.shape), call.filterPerm),
      ]);
      const close = () => {
        xLast.dispose();
        filter?.dispose();
      };
      try {
        const output = tf.tidy(() => tf.transpose(call.run(xLast, filter), TO_FIRST[rank]).dataSync());
        // Interleaved with other runners: the backend is set again before every call.
        const step = async () => {
          await tf.setBackend(backend);
          return timeCall(() => {
            const y = call.run(xLast, filter);
            y.dataSync(); // tfjs runs lazily on some backends: wait for the values
            y.dispose();
          });
        };
        return { output, step, close };
      } catch (e) {
        close();
        throw e;
      }
    },
  };
}

/** The tfjs peers, with the wasm backend's files at `wasmDir` (a path or URL ending in '/'). */
export async function loadTfjsPeers(wasmDir) {
  setWasmPaths(wasmDir);
  tf.enableProdMode(); // no debug checks in the timed calls (and no Node banner)
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  if (!(await tf.setBackend('wasm'))) throw new Error('tfjs wasm backend did not load');
  return [tfjsPeer('tfjs-wasm', 'wasm'), tfjsPeer('tfjs-cpu', 'cpu')];
}
