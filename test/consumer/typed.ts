// Type-checks against the shipped declarations (tsc --noEmit in test/runtimes.test.ts).
import { ConvkitError, backendInfo, conv2d, conv2dBackward, createPool, init, maxPool2dBackward, type ConvGradients, type ConvOptions, type Tensor } from 'convkit';

export async function typed(): Promise<number> {
  await init({ simd: true });
  const x: Tensor = { data: new Float32Array(2 * 3 * 8 * 8), shape: [2, 3, 8, 8] };
  const w: Tensor = { data: new Float32Array(4 * 3 * 3 * 3), shape: [4, 3, 3, 3] };
  const opts: ConvOptions = { padding: [[1, 0], [0, 1]], paddingMode: 'reflect', stride: [1, 2], layout: 'channels-first' };
  const y: Tensor = conv2d(x, w, opts);
  const kind: 'wasm-simd' | 'wasm' | 'js' = backendInfo().backend;
  const pool = await createPool({ workers: 2 });
  const z = await pool.conv2d(x, w, { ...opts, signal: new AbortController().signal });
  const grads: ConvGradients = conv2dBackward(x, w, y, opts);
  const pooled: ConvGradients = await pool.conv2dBackward(x, w, y, opts);
  const gradX: Tensor = maxPool2dBackward(x, { data: new Float32Array(2 * 3 * 4 * 4), shape: [2, 3, 4, 4] }, { kernelSize: 2 }).gradInput;
  await pool.terminate();
  try {
    conv2d(x, w, { groups: 2 });
  } catch (e) {
    if (e instanceof ConvkitError && e.code === 'INVALID_ARGUMENT') return -1;
  }
  return y.data.length + z.data.length + kind.length + grads.gradWeight.data.length + pooled.gradInput.data.length + gradX.shape.length;
}
