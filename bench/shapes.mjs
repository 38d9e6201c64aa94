// Built-in benchmark shapes: realistic layers (names match the performance issue's table).
export const SHAPES = [
  { name: 'S1 conv2d 3x3 64->64 56x56', x: [1, 64, 56, 56], w: [64, 64, 3, 3], opts: { padding: 1 } },
  { name: 'S2 conv2d 3x3 s2 128->256 28x28', x: [1, 128, 28, 28], w: [256, 128, 3, 3], opts: { padding: 1, stride: 2 } },
  { name: 'S3 conv2d 1x1 128->128 56x56', x: [1, 128, 56, 56], w: [128, 128, 1, 1], opts: {} },
  { name: 'S4 depthwise 3x3 144ch 56x56', x: [1, 144, 56, 56], w: [144, 1, 3, 3], opts: { padding: 1, groups: 144 } },
  { name: 'S5 conv2d 7x7 s2 3->64 224x224', x: [1, 3, 224, 224], w: [64, 3, 7, 7], opts: { padding: 3, stride: 2 } },
];

/** Small versions of the same layers, for `--quick` (a smoke run that finishes in seconds). */
export const QUICK_SHAPES = SHAPES.map((s) => ({
  ...s,
  name: `${s.name.split(' ')[0]} (quick)`,
  x: [1, Math.min(s.x[1], 16), 20, 20],
  w: [Math.min(s.w[0], 16), s.w[1] === 1 ? 1 : Math.min(s.w[1], 16), s.w[2], s.w[3]],
  opts: s.opts.groups ? { ...s.opts, groups: 16 } : s.opts,
}));
