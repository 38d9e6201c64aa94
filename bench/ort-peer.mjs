// onnxruntime-web as a peer: the layer as a one-node ONNX model, run in a worker (its wasm thread
// count is fixed when it first loads, so each thread count has its own worker).
import { singleNodeModel } from './onnx.mjs';
import { timeRuns } from './timing.mjs';

/** ONNX attributes of a shape's Conv / ConvTranspose node. */
function onnxNode(shape) {
  const rank = shape.x.length - 2;
  const perAxis = (v, fallback) => (Array.isArray(v) ? v : Array(rank).fill(v ?? fallback));
  const pad = perAxis(shape.opts.padding, 0);
  return {
    op: shape.op.startsWith('convTranspose') ? 'ConvTranspose' : 'Conv',
    attributes: {
      kernel_shape: shape.w.slice(2),
      strides: perAxis(shape.opts.stride, 1),
      pads: [...pad, ...pad],
      dilations: perAxis(shape.opts.dilation, 1),
      group: shape.opts.groups ?? 1,
    },
  };
}

/**
 * The peer for `threads` threads; `request(message)` sends `{ model, x, reps, warmUpMs }` to that thread
 * count's worker (which runs runOrtModel) and resolves to its reply.
 */
export function ortPeer(threads, request, close) {
  return {
    name: `ort(${threads})`,
    threads,
    async measure(shape, x, w, outputShape, { reps, warmUpMs }) {
      const model = singleNodeModel({ ...onnxNode(shape), weight: w, inputShape: x.shape, outputShape });
      const reply = await request({ model, x, reps, warmUpMs });
      if (reply.error) throw new Error(reply.error);
      return { times: reply.times, output: reply.output };
    },
    close,
  };
}

/** The worker side: creates the session, runs it once for the output, then times `reps` runs after `warmUpMs` of warm-up. */
export async function runOrtModel(ort, { model, x, reps, warmUpMs }) {
  let session;
  try {
    session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'] });
    const feeds = { X: new ort.Tensor('float32', x.data, x.shape) };
    const output = (await session.run(feeds)).Y.data;
    const times = await timeRuns(() => session.run(feeds), reps, warmUpMs);
    return { output, times };
  } catch (e) {
    return { error: String(e?.message ?? e) };
  } finally {
    await session?.release();
  }
}
