/** Option normalization and validation for deformConv2d (torchvision deform_conv2d semantics). */

import type { OpCall } from './call.js';
import { checkGroups, readWeight } from './conv-options.js';
import { invalid, mismatch } from './errors.js';
import { isNonNegativeInt, optionsObject, perAxis, readActivation, readBackend, readBias, type BackendName } from './options.js';
import { convOutputLength } from './problem.js';
import { checkTensor, type Tensor } from './tensor.js';

export interface DeformConvOptions {
  stride?: number | number[];
  padding?: number | number[];
  dilation?: number | number[];
  groups?: number;
  bias?: Tensor | Float32Array;
  /** DCNv2 modulation `[N, offsetGroups * kh * kw, Ho, Wo]`. */
  mask?: Tensor;
  backend?: BackendName;
}

const KEYS = new Set(['stride', 'padding', 'dilation', 'groups', 'bias', 'mask', 'backend']);
const same = (a: number[], b: number[]) => a.length === b.length && a.every((v, i) => v === b[i]);

export function normalizeDeformConv(op: string, x: unknown, offset: unknown, w: unknown, opts: unknown): OpCall & { kind: 'deformConv' } {
  const o = optionsObject(op, opts, KEYS);
  const t = checkTensor(op, 'x', x, [4]);
  const act = readActivation(op, 'x', t, 2, 'channels-first');
  const off = checkTensor(op, 'offset', offset, [4]);
  const weight = readWeight(op, w, 4);
  const [outChannels, inPerGroup, kh, kw] = weight.shape;
  const groups = checkGroups(op, o.groups, act.channels, outChannels, inPerGroup);
  const bias = readBias(op, 'bias', o.bias, outChannels, `weight has ${outChannels} output channels`);
  const stride = perAxis(op, 'stride', o.stride, 2, 1);
  const dilation = perAxis(op, 'dilation', o.dilation, 2, 1);
  const padding = perAxis(op, 'padding', o.padding, 2, 0, isNonNegativeInt, 'non-negative integer');
  const out = act.spatial.map((size, a) => {
    const extent = dilation[a] * (weight.shape[2 + a] - 1) + 1;
    if (extent > size + 2 * padding[a]) {
      throw invalid(`${op}: kernel extent ${extent} on spatial axis ${a} is larger than the padded input (${size + 2 * padding[a]})`);
    }
    return convOutputLength(size, weight.shape[2 + a], stride[a], dilation[a], padding[a], padding[a]);
  });
  const taps = kh * kw;
  const offsetGroups = off.shape[1] / (2 * taps);
  if (!Number.isInteger(offsetGroups) || offsetGroups < 1 || act.channels % offsetGroups !== 0) {
    throw mismatch(
      `${op}: offset has ${off.shape[1]} channels; expected 2 * offsetGroups * ${taps} (kh * kw) with offsetGroups dividing the ${act.channels} input channels`,
    );
  }
  const offsetShape = [act.batch, off.shape[1], ...out];
  if (!same(off.shape, offsetShape)) {
    throw mismatch(`${op}: offset must have shape [${offsetShape.join(', ')}], got [${off.shape.join(', ')}]`);
  }
  let mask: Float32Array | undefined;
  if (o.mask !== undefined) {
    const m = checkTensor(op, 'mask', o.mask, [4]);
    const maskShape = [act.batch, offsetGroups * taps, ...out];
    if (!same(m.shape, maskShape)) throw mismatch(`${op}: mask must have shape [${maskShape.join(', ')}], got [${m.shape.join(', ')}]`);
    mask = m.data;
  }
  return {
    op,
    kind: 'deformConv',
    problem: {
      inputShape: [act.batch, act.channels, ...act.spatial],
      offsetShape,
      weightShape: [...weight.shape],
      outputShape: [act.batch, outChannels, ...out],
      stride,
      padding,
      dilation,
      groups,
      hasMask: mask !== undefined,
      hasBias: bias !== undefined,
    },
    arrays: [act.data, off.data, weight.data, mask, bias],
    activation: act,
    backend: readBackend(op, o.backend),
  };
}
