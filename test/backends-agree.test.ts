// wasm-SIMD, wasm-scalar and JS agree on many random configurations, with each explicit algorithm.
import { beforeAll, expect, it } from 'vitest';
import { compare, loadConvkit, randomData, type Convkit } from './helpers.js';

const MODES = ['zeros', 'reflect', 'symmetric', 'replicate', 'circular'] as const;

/** Deterministic small integer source for choosing configurations. */
function chooser(seed: number) {
  let s = seed;
  return (lo: number, hi: number) => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return lo + (s % (hi - lo + 1));
  };
}

let simd: Convkit;
let scalar: Convkit;
let js: Convkit;
beforeAll(async () => {
  simd = await loadConvkit('wasm-simd');
  scalar = await loadConvkit('wasm');
  js = await loadConvkit('js');
});

it('agree on 300 random convolutions', () => {
  const pick = chooser(42);
  let checked = 0;
  const failures: string[] = [];
  for (let attempt = 0; checked < 300 && attempt < 3000; attempt++) {
    const dims = pick(1, 3);
    const groups = pick(1, 3);
    const cin = groups * pick(1, 6);
    const cout = groups * pick(1, 9);
    const size = Array.from({ length: dims }, () => (dims === 3 ? pick(2, 8) : pick(3, 40)));
    const kernel = Array.from({ length: dims }, () => pick(1, 5));
    const opts = {
      stride: Array.from({ length: dims }, () => pick(1, 3)),
      dilation: Array.from({ length: dims }, () => pick(1, 2)),
      padding: Array.from({ length: dims }, () => [pick(0, 2), pick(0, 2)] as [number, number]),
      paddingMode: MODES[pick(0, 4)],
      groups,
      flip: pick(0, 1) === 1,
      bias: pick(0, 1) === 1 ? randomData(cout, attempt + 7) : undefined,
      algorithm: (['auto', 'direct', 'im2col'] as const)[pick(0, 2)],
    };
    const op = (['conv1d', 'conv2d', 'conv3d'] as const)[dims - 1];
    const x = { data: randomData(pick(1, 2) * cin * size.reduce((a, b) => a * b, 1), attempt), shape: [0, cin, ...size] };
    x.shape[0] = x.data.length / (cin * size.reduce((a, b) => a * b, 1));
    const w = { data: randomData(cout * (cin / groups) * kernel.reduce((a, b) => a * b, 1), attempt + 1), shape: [cout, cin / groups, ...kernel] };
    let reference;
    try {
      reference = js[op](x, w, opts);
    } catch {
      continue; // an invalid combination (kernel larger than the padded input, pad too wide for the mode)
    }
    for (const [name, ck] of [['wasm-simd', simd], ['wasm', scalar]] as const) {
      const result = compare(ck[op](x, w, opts), reference, 1e-5, 1e-5);
      if (!result.ok) failures.push(`${name} ${op} ${JSON.stringify({ ...opts, bias: !!opts.bias, x: x.shape, w: w.shape })}: ${result.detail}`);
    }
    checked++;
  }
  expect(checked).toBe(300);
  expect(failures).toEqual([]);
});

it('the SIMD and scalar builds and every algorithm agree on a realistic layer', () => {
  const x = { data: randomData(1 * 32 * 28 * 28, 11), shape: [1, 32, 28, 28] };
  const w = { data: randomData(48 * 32 * 3 * 3, 12), shape: [48, 32, 3, 3] };
  const reference = js.conv2d(x, w, { padding: 1 });
  for (const ck of [simd, scalar]) {
    for (const algorithm of ['direct', 'im2col'] as const) {
      expect(compare(ck.conv2d(x, w, { padding: 1, algorithm }), reference, 1e-4, 1e-4).detail).toBe('ok');
    }
  }
});
