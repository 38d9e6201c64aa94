// The three wasm builds: the relaxed one multiplies and adds with relaxed SIMD's fused instruction,
// the SIMD one uses SIMD128 instructions but no relaxed one (so it validates on engines without
// relaxed SIMD), the scalar one has no SIMD instruction at all (so it validates without SIMD).
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import wabtInit from 'wabt';
import { DIST } from './helpers.js';

async function disassemble(file: string): Promise<string> {
  const wabt = await wabtInit();
  const module = wabt.readWasm(readFileSync(new URL(file, DIST)), { readDebugNames: false, simd: true, relaxed_simd: true });
  return module.toText({ foldExprs: false, inlineExport: false });
}

const simdOps = (text: string) => (text.match(/\b(v128|f32x4|i32x4|i8x16|i16x8|i64x2|f64x2)\.[a-z_]+/g) ?? []).length;
const relaxedOps = (text: string) => (text.match(/\b[a-z0-9]+x[0-9]+\.relaxed_[a-z0-9_]+/g) ?? []).length;

it('the relaxed build multiplies and adds four lanes in one relaxed instruction', async () => {
  const text = await disassemble('convkit-relaxed.wasm');
  expect(text).toMatch(/f32x4\.relaxed_madd/);
  expect(simdOps(text)).toBeGreaterThan(20);
});

it('the SIMD build multiplies and adds four lanes at a time, with no relaxed instruction', async () => {
  const text = await disassemble('convkit-simd.wasm');
  expect(text).toMatch(/f32x4\.mul/);
  expect(text).toMatch(/f32x4\.add/);
  expect(simdOps(text)).toBeGreaterThan(20);
  expect(relaxedOps(text)).toBe(0);
});

it('the scalar build contains no SIMD instruction', async () => {
  const text = await disassemble('convkit-scalar.wasm');
  expect(text).toMatch(/f32\.mul/);
  expect(simdOps(text)).toBe(0);
});
