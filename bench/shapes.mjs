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

// Other variants, as layers of well-known networks, measured against the same peers (the issue sets
// no targets for them). A pooling shape has no weight.
export const VARIANT_SHAPES = [
  { name: 'V1 maxPool2d 3x3 s2 64ch 112x112', op: 'maxPool2d', x: [1, 64, 112, 112], opts: { kernelSize: 3, stride: 2, padding: 1 } },
  { name: 'V2 avgPool2d 2x2 s2 256ch 56x56', op: 'avgPool2d', x: [1, 256, 56, 56], opts: { kernelSize: 2, stride: 2 } },
  { name: 'V3 maxPool3d 2x2x2 s2 64ch 16x56x56', op: 'maxPool3d', x: [1, 64, 16, 56, 56], opts: { kernelSize: 2, stride: 2 } },
  { name: 'V4 grouped conv2d 3x3 g32 256->256 28x28', op: 'conv2d', x: [1, 256, 28, 28], w: [256, 8, 3, 3], opts: { padding: 1, groups: 32 } },
  { name: 'V5 depthwise 5x5 s2 240ch 28x28', op: 'conv2d', x: [1, 240, 28, 28], w: [240, 1, 5, 5], opts: { padding: 2, stride: 2, groups: 240 } },
];

/** What `npm run bench` measures: the shapes, then the variants. */
export const BENCH_SHAPES = [...SHAPES, ...VARIANT_SHAPES];

// `--quick`: the same layers with at most 16 channels and small images (a smoke run of seconds).
const QUICK_SPATIAL = { 1: [256], 2: [20, 20], 3: [4, 12, 12] };

export const quickShapes = (shapes) => shapes.map((s) => {
  const spatial = s.x.slice(2).map((d, i) => Math.min(d, QUICK_SPATIAL[s.x.length - 2][i]));
  const channels = (c) => (c === 1 ? 1 : Math.min(c, 16));
  const w = s.w && [channels(s.w[0]), channels(s.w[1]), ...s.w.slice(2)];
  return {
    ...s,
    name: `${s.name.split(' ')[0]} (quick)`,
    x: [1, channels(s.x[1]), ...spatial],
    ...(w && { w }),
    // Groups keep each group's input channels.
    opts: s.opts.groups ? { ...s.opts, groups: channels(s.x[1]) / w[1] } : s.opts,
  };
});

export const QUICK_SHAPES = quickShapes(BENCH_SHAPES);

/**
 * Useful multiply-adds: every output times its receptive field for a convolution; every input
 * times the taps it feeds for a transposed one (the zeros a stride inserts are not counted); for
 * pooling, every output times its window's taps (a comparison or an add counted as one).
 */
export function usefulMacs(shape, outputShape) {
  const product = (dims) => dims.reduce((a, b) => a * b, 1);
  if (!shape.w) {
    const { kernelSize } = shape.opts;
    return product(outputShape) * (Array.isArray(kernelSize) ? product(kernelSize) : kernelSize ** (shape.x.length - 2));
  }
  const taps = product(shape.w.slice(1));
  return shape.op.startsWith('convTranspose') ? product(shape.x) * taps : product(outputShape) * taps;
}

/**
 * Issue 5's bar: convkit wasm-SIMD at `wasmVsBestPeer` times the best single-thread peer (tfjs-wasm,
 * tfjs-cpu, onnxruntime-web with 1 thread) and the JS backend at `jsVsTfjsCpu` times tfjs-cpu, on every shape.
 */
export const TARGETS = { jsVsTfjsCpu: 3 };
