// onnxruntime-web as a peer: the layer as a one-node ONNX model, run in a worker (its wasm thread
// count is fixed when it first loads, so each thread count has its own worker).
import { singleNodeModel } from './onnx.mjs';
import { timeCall } from './timing.mjs';

/** ONNX attributes of a shape's Conv / ConvTranspose / MaxPool / AveragePool node. */
function onnxNode(shape) {
  const rank = shape.x.length - 2;
  const perAxis = (v, fallback) => (Array.isArray(v) ? v : Array(rank).fill(v ?? fallback));
  const pad = perAxis(shape.opts.padding, 0);
  if (!shape.w) {
    const kernel = perAxis(shape.opts.kernelSize);
    return {
      op: shape.op.startsWith('max') ? 'MaxPool' : 'AveragePool',
      // PyTorch's default: average pooling counts the padding.
      attributes: { kernel_shape: kernel, strides: perAxis(shape.opts.stride, kernel[0]), pads: [...pad, ...pad], ...(shape.op.startsWith('avg') && { count_include_pad: 1 }) },
    };
  }
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
 * The peer for `threads` threads; `request(message)` sends a message to that thread count's worker
 * (which answers it with ortAnswerer) and resolves to its reply.
 */
export function ortPeer(threads, request, close) {
  const ask = async (message) => {
    const reply = await request(message);
    if (reply.error) throw new Error(reply.error);
    return reply;
  };
  return {
    name: `ort(${threads})`,
    threads,
    async open(shape, x, w, outputShape) {
      const model = singleNodeModel({ ...onnxNode(shape), weight: w, inputShape: x.shape, outputShape });
      const { output } = await ask({ open: { model, x } });
      return { output, step: async () => (await ask({ step: true })).ms, close: () => ask({ close: true }) };
    },
    close,
  };
}

/**
 * The worker side, one session at a time: `{ open: { model, x } }` creates the session and runs it
 * once for the output, `{ step: true }` times one run (in the worker, so messaging is not counted),
 * `{ close: true }` releases it. Failures reply `{ error }`.
 */
export function ortAnswerer(ort) {
  let session;
  let feeds;
  return async (message) => {
    try {
      if (message.open) {
        const { model, x } = message.open;
        session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'] });
        feeds = { X: new ort.Tensor('float32', x.data, x.shape) };
        return { output: (await session.run(feeds)).Y.data };
      }
      if (message.step) return { ms: await timeCall(() => session.run(feeds)) };
      await session?.release();
      session = undefined;
      return {};
    } catch (e) {
      return { error: String(e?.message ?? e) };
    }
  };
}
