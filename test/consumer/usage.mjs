// What a user writes: run one PyTorch fixture on the main thread and in a pool, report the numbers.
// Runs unchanged in Node and Deno (see test/runtimes.test.ts), and bundled by esbuild in Chromium.
import { backendInfo, conv2d, createPool, init } from 'convkit';

export async function run(fixture) {
  await init();
  const opts = fixture.bias ? { ...fixture.options, bias: fixture.bias } : fixture.options;
  const main = conv2d(fixture.x, fixture.weight, opts);
  const pool = await createPool({ workers: 2 });
  try {
    const pooled = await pool.conv2d(fixture.x, fixture.weight, opts);
    return {
      info: backendInfo(),
      poolInfo: pool.info,
      main: { shape: main.shape, data: Array.from(main.data) },
      pooled: { shape: pooled.shape, data: Array.from(pooled.data) },
    };
  } finally {
    await pool.terminate();
  }
}
