// The examples run as a user would run them and do what they claim.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

it('examples/learn-sobel.mjs recovers the Sobel kernel by gradient descent with conv2dBackward', () => {
  // execFileSync throws on a non-zero exit: the example exits 1 when the kernel is off.
  const out = execFileSync(process.execPath, ['examples/learn-sobel.mjs'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  const losses = [...out.matchAll(/^step +\d+ +loss (\S+)$/gm)].map((m) => Number(m[1]));
  expect(losses.length).toBeGreaterThan(2);
  expect(losses.at(-1)!).toBeLessThan(losses[0] * 1e-6);
  const error = Number(/largest difference from Sobel x: (\S+)/.exec(out)![1]);
  expect(error).toBeLessThanOrEqual(1e-3);
});
