// The two wasm builds: the SIMD one uses SIMD128 instructions, the scalar one has none at all
// (so it validates on engines without SIMD).
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import wabtInit from 'wabt';
import { DIST } from './helpers.js';

async function disassemble(file: string): Promise<string> {
  const wabt = await wabtInit();
  const module = wabt.readWasm(readFileSync(new URL(file, DIST)), { readDebugNames: false, simd: true });
  return module.toText({ foldExprs: false, inlineExport: false });
}

const simdOps = (text: string) => (text.match(/\b(v128|f32x4|i32x4|i8x16|i16x8|i64x2|f64x2)\.[a-z_]+/g) ?? []).length;

it('the SIMD build multiplies and adds four lanes at a time', async () => {
  const text = await disassemble('convkit-simd.wasm');
  expect(text).toMatch(/f32x4\.mul/);
  expect(text).toMatch(/f32x4\.add/);
  expect(simdOps(text)).toBeGreaterThan(20);
});

it('the scalar build contains no SIMD instruction', async () => {
  const text = await disassemble('convkit-scalar.wasm');
  expect(text).toMatch(/f32\.mul/);
  expect(simdOps(text)).toBe(0);
});
