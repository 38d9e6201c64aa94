// Built-in benchmark shapes: realistic layers (names match the performance issue's table). `op` is
// the convkit function; x and w are in convkit's layouts (channels-first, PyTorch weights).
export const SHAPES = [
  { name: 'S1 conv2d 3x3 64->64 56x56', op: 'conv2d', x: [1, 64, 56, 56], w: [64, 64, 3, 3], opts: { padding: 1 }, target: 2.0, poolTarget: 1.7 },
  { name: 'S2 conv2d 3x3 s2 128->256 28x28', op: 'conv2d', x: [1, 128, 28, 28], w: [256, 128, 3, 3], opts: { padding: 1, stride: 2 }, target: 1.25 },
  { name: 'S3 conv2d 1x1 128->128 56x56', op: 'conv2d', x: [1, 128, 56, 56], w: [128, 128, 1, 1], opts: {}, target: 1.25 },
  { name: 'S4 depthwise 3x3 144ch 56x56', op: 'conv2d', x: [1, 144, 56, 56], w: [144, 1, 3, 3], opts: { padding: 1, groups: 144 }, target: 1.5 },
  { name: 'S5 conv2d 7x7 s2 3->64 224x224', op: 'conv2d', x: [1, 3, 224, 224], w: [64, 3, 7, 7], opts: { padding: 3, stride: 2 }, target: 1.25, poolTarget: 1.7 },
  { name: 'S6 convTranspose2d 4x4 s2 64->32 32x32', op: 'convTranspose2d', x: [1, 64, 32, 32], w: [64, 32, 4, 4], opts: { padding: 1, stride: 2 }, target: 1.3 },
  { name: 'S7 conv1d k3 dil4 64->64 L=16000', op: 'conv1d', x: [1, 64, 16000], w: [64, 64, 3], opts: { padding: 4, dilation: 4 }, target: 1.25 },
  { name: 'S8 conv3d 3x3x3 16->16 8x56x56', op: 'conv3d', x: [1, 16, 8, 56, 56], w: [16, 16, 3, 3, 3], opts: { padding: 1 }, target: 1.5, poolTarget: 1.7 },
  { name: 'S9 conv2d 3x3 dil2 64->64 56x56', op: 'conv2d', x: [1, 64, 56, 56], w: [64, 64, 3, 3], opts: { padding: 2, dilation: 2 }, target: 1.25 },
  { name: 'S10 conv2d 15x15 1->1 1024x1024', op: 'conv2d', x: [1, 1, 1024, 1024], w: [1, 1, 15, 15], opts: { padding: 7 }, target: 3, poolTarget: 1.7 },
];

// `--quick`: the same layers with at most 16 channels and small images (a smoke run of seconds).
const QUICK_SPATIAL = { 1: [256], 2: [20, 20], 3: [4, 12, 12] };

export const QUICK_SHAPES = SHAPES.map((s) => {
  const spatial = s.x.slice(2).map((d, i) => Math.min(d, QUICK_SPATIAL[s.x.length - 2][i]));
  const channels = (c) => (c === 1 ? 1 : Math.min(c, 16));
  return {
    ...s,
    name: `${s.name.split(' ')[0]} (quick)`,
    x: [1, channels(s.x[1]), ...spatial],
    w: [channels(s.w[0]), channels(s.w[1]), ...s.w.slice(2)],
    opts: s.opts.groups ? { ...s.opts, groups: 16 } : s.opts,
  };
});

/**
 * Useful multiply-adds: every output times its receptive field for a convolution; every input
 * times the taps it feeds for a transposed one (the zeros a stride inserts are not counted).
 */
export function usefulMacs(shape, outputShape) {
  const product = (dims) => dims.reduce((a, b) => a * b, 1);
  const taps = product(shape.w.slice(1));
  return shape.op.startsWith('convTranspose') ? product(shape.x) * taps : product(outputShape) * taps;
}

/**
 * Issue 5's bar: convkit wasm-SIMD at `wasmVsBestPeer` times the best single-thread peer (tfjs-wasm,
 * tfjs-cpu, onnxruntime-web with 1 thread) and the JS backend at `jsVsTfjsCpu` times tfjs-cpu, on every shape.
 */
export const TARGETS = { jsVsTfjsCpu: 3 };
