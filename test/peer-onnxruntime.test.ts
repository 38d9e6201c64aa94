// onnxruntime-web's own Conv test vectors (../shared/peer-tests/onnxruntime-web, used unchanged),
// mapped from ONNX attributes to convkit options and run on every backend.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Tensor } from '../ts/index.js';
import { compare, loadConvkit, type Convkit, type Kind } from './helpers.js';

const PEER_DIR = new URL('../../shared/peer-tests/onnxruntime-web/', import.meta.url);

interface OnnxTensor {
  data: number[];
  dims: number[];
}
interface OnnxTest {
  name: string;
  operator: string;
  opset?: { domain: string };
  attributes?: { name: string; data: unknown }[];
  cases: { name: string; inputs: OnnxTensor[]; outputs: OnnxTensor[] }[];
}

/** JSON with `//` comments: drops comments outside strings. */
function parseJsonc(text: string): unknown {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i];
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else out += c;
  }
  return JSON.parse(out);
}

const tensor = (t: OnnxTensor): Tensor => ({ data: Float32Array.from(t.data), shape: t.dims });

/** ONNX Conv attributes as convkit options. */
function convOptions(test: OnnxTest, x: Tensor, w: Tensor): Record<string, unknown> {
  const attr = Object.fromEntries((test.attributes ?? []).map((a) => [a.name, a.data])) as Record<string, unknown>;
  const dims = w.shape.length - 2;
  const stride = (attr.strides as number[]) ?? Array(dims).fill(1);
  const dilation = (attr.dilations as number[]) ?? Array(dims).fill(1);
  const opts: Record<string, unknown> = { stride, dilation, groups: (attr.group as number) ?? 1 };
  if (attr.kernel_shape) expect(attr.kernel_shape).toEqual(w.shape.slice(2));
  const autoPad = (attr.auto_pad as string) ?? 'NOTSET';
  if (autoPad === 'VALID') opts.padding = 'valid';
  else if (autoPad === 'SAME_UPPER') opts.padding = 'same';
  else if (autoPad === 'SAME_LOWER') {
    opts.padding = x.shape.slice(2).map((size, a) => {
      const out = Math.ceil(size / stride[a]);
      const total = Math.max((out - 1) * stride[a] + dilation[a] * (w.shape[2 + a] - 1) + 1 - size, 0);
      return [total - Math.floor(total / 2), Math.floor(total / 2)];
    });
  } else {
    const pads = (attr.pads as number[]) ?? Array(2 * dims).fill(0);
    opts.padding = Array.from({ length: dims }, (_, a) => [pads[a], pads[a + dims]]);
  }
  if (test.opset?.domain === 'com.ms.internal.nhwc') opts.layout = 'channels-last';
  return opts;
}

const files = ['conv.jsonc', 'conv1d.jsonc', 'conv3dncdhw.jsonc'];
const cases = files.flatMap((file) =>
  (parseJsonc(readFileSync(new URL(file, PEER_DIR), 'utf8')) as OnnxTest[]).flatMap((test) =>
    test.cases.map((c) => ({ label: `${file}: ${test.name} ${c.name}`, test, c })),
  ),
);

it('reads every Conv vector', () => {
  expect(cases.length).toBe(27);
  expect(cases.every(({ test }) => test.operator === 'Conv')).toBe(true);
});

describe.each<Kind>(['wasm-simd', 'wasm', 'js'])('onnxruntime-web Conv vectors on %s', (kind) => {
  let ck: Convkit;
  beforeAll(async () => {
    ck = await loadConvkit(kind);
  });
  it.each(cases.map((c) => [c.label, c] as const))('%s', (_, { test, c }) => {
    const [x, w, bias] = c.inputs.map(tensor);
    const opts = { ...convOptions(test, x, w), ...(bias ? { bias } : {}) };
    const op = (['conv1d', 'conv2d', 'conv3d'] as const)[w.shape.length - 3];
    expect(compare(ck[op](x, w, opts), tensor(c.outputs[0])).detail).toBe('ok');
  });
});
