// Runs in its own Node process, so test/relaxed-simd.test.ts can choose the V8 flags: inits the built
// library with the init options in argv[2], runs every PyTorch conv fixture on the main thread and
// in a 1-worker pool when argv[3] is 'fixtures', and prints the backends and the outputs as JSON.
import { readFileSync } from 'node:fs';
import * as ck from '../dist/index.js';

const decode = (e) => {
  const bytes = Buffer.from(e.data, 'base64');
  return { shape: e.shape, data: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)) };
};
const encode = (t) => ({ shape: t.shape, data: Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('base64') });

await ck.init(JSON.parse(process.argv[2]));
const cases = process.argv[3] === 'fixtures' ? JSON.parse(readFileSync(new URL('./fixtures/conv.json', import.meta.url), 'utf8')).cases : [];
const calls = cases.map((c) => [c.name, c.op, decode(c.x), decode(c.weight), c.bias ? { ...c.options, bias: decode(c.bias) } : c.options]);
const pool = await ck.createPool({ workers: 1 });
try {
  const main = Object.fromEntries(calls.map(([name, op, x, w, opts]) => [name, encode(ck[op](x, w, opts))]));
  const pooled = {};
  for (const [name, op, x, w, opts] of calls) pooled[name] = encode(await pool[op](x, w, opts));
  console.log(JSON.stringify({ info: ck.backendInfo(), poolInfo: pool.info, main, pooled }));
} finally {
  await pool.terminate();
}
