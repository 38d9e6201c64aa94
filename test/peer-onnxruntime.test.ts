// onnxruntime-web's own Conv, ConvTranspose, MaxPool and GlobalAveragePool test vectors (../shared/peer-tests/onnxruntime-web, used unchanged),
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
  const attr = attributes(test);
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

function attributes(test: OnnxTest): Record<string, unknown> {
  return Object.fromEntries((test.attributes ?? []).map((a) => [a.name, a.data]));
}

/** ONNX ConvTranspose attributes as convkit options (symmetric pads only, as in these vectors). */
function transposeOptions(test: OnnxTest, w: Tensor): Record<string, unknown> {
  const attr = attributes(test);
  const dims = w.shape.length - 2;
  if (attr.kernel_shape) expect(attr.kernel_shape).toEqual(w.shape.slice(2));
  const pads = (attr.pads as number[]) ?? Array(2 * dims).fill(0);
  expect(pads.slice(0, dims)).toEqual(pads.slice(dims));
  return {
    stride: attr.strides ?? 1,
    dilation: attr.dilations ?? 1,
    groups: attr.group ?? 1,
    padding: pads.slice(0, dims),
    outputPadding: attr.output_padding ?? 0,
  };
}

/** ONNX MaxPool attributes as convkit options (ONNX's default stride is 1, not the kernel size). */
function maxPoolOptions(test: OnnxTest): Record<string, unknown> {
  const attr = attributes(test);
  const kernel = attr.kernel_shape as number[];
  const pads = (attr.pads as number[]) ?? Array(2 * kernel.length).fill(0);
  expect(pads.slice(0, kernel.length)).toEqual(pads.slice(kernel.length));
  return {
    kernelSize: kernel,
    stride: attr.strides ?? 1,
    padding: pads.slice(0, kernel.length),
    dilation: attr.dilations ?? 1,
    ceilMode: attr.ceil_mode === 1,
  };
}

type Runner = (ck: Convkit, test: OnnxTest, inputs: Tensor[]) => Tensor;
const RUNNERS: Record<string, Runner> = {
  Conv: (ck, test, [x, w, bias]) => {
    const op = (['conv1d', 'conv2d', 'conv3d'] as const)[w.shape.length - 3];
    return ck[op](x, w, { ...convOptions(test, x, w), ...(bias ? { bias } : {}) });
  },
  ConvTranspose: (ck, test, [x, w, bias]) => {
    const op = (['convTranspose1d', 'convTranspose2d', 'convTranspose3d'] as const)[w.shape.length - 3];
    return ck[op](x, w, { ...transposeOptions(test, w), ...(bias ? { bias } : {}) });
  },
  MaxPool: (ck, test, [x]) => {
    const op = (['maxPool1d', 'maxPool2d', 'maxPool3d'] as const)[x.shape.length - 3];
    return ck[op](x, maxPoolOptions(test) as never) as Tensor;
  },
  GlobalAveragePool: (ck, _, [x]) => ck.globalAvgPool(x),
};

const files = ['conv.jsonc', 'conv1d.jsonc', 'conv3dncdhw.jsonc', 'conv-transpose.jsonc', 'max-pool.jsonc', 'global-average-pool.jsonc'];
const cases = files.flatMap((file) =>
  (parseJsonc(readFileSync(new URL(file, PEER_DIR), 'utf8')) as OnnxTest[]).flatMap((test) =>
    test.cases.map((c) => ({ label: `${file}: ${test.name} ${c.name}`, test, c })),
  ),
);

it('reads every vector (44 cases) and has a runner for each operator', () => {
  expect(cases.length).toBe(44);
  expect(cases.every(({ test }) => test.operator in RUNNERS)).toBe(true);
});

describe.each<Kind>(['wasm-simd', 'wasm', 'js'])('onnxruntime-web vectors on %s', (kind) => {
  let ck: Convkit;
  beforeAll(async () => {
    ck = await loadConvkit(kind);
  });
  it.each(cases.map((c) => [c.label, c] as const))('%s', (_, { test, c }) => {
    const got = RUNNERS[test.operator](ck, test, c.inputs.map(tensor));
    expect(compare(got, tensor(c.outputs[0])).detail).toBe('ok');
  });
});
