/** Option normalization and validation for convTranspose1d/2d/3d. */

import type { OpCall } from './call.js';
import { readGroups, readWeight } from './conv-options.js';
import { invalid, mismatch } from './errors.js';
import {
  isNonNegativeInt,
  optionsObject,
  perAxis,
  readActivation,
  readBackend,
  readBias,
  readLayout,
  type BackendName,
  type Layout,
} from './options.js';
import { transposeOutputLength } from './problem.js';
import type { Tensor } from './tensor.js';

export interface ConvTransposeOptions {
  stride?: number | number[];
  padding?: number | number[];
  outputPadding?: number | number[];
  dilation?: number | number[];
  groups?: number;
  bias?: Tensor | Float32Array;
  layout?: Layout;
  backend?: BackendName;
}

const KEYS = new Set(['stride', 'padding', 'outputPadding', 'dilation', 'groups', 'bias', 'layout', 'backend']);

export function normalizeConvTranspose(op: string, dims: number, x: unknown, w: unknown, opts: unknown): OpCall & { kind: 'convTranspose' } {
  const o = optionsObject(op, opts, KEYS);
  const layout = readLayout(op, o.layout);
  const act = readActivation(op, 'x', x, dims, layout);
  const weight = readWeight(op, w, dims + 2);
  const [inChannels, outPerGroup, ...kernel] = weight.shape;
  const groups = readGroups(op, o.groups, act.channels);
  if (inChannels !== act.channels) {
    throw mismatch(`${op}: weight has ${inChannels} input channels (its first dimension) but input has ${act.channels} channels`);
  }
  const outChannels = outPerGroup * groups;
  const bias = readBias(op, 'bias', o.bias, outChannels, `the output has ${outChannels} channels`);
  const stride = perAxis(op, 'stride', o.stride, dims, 1);
  const dilation = perAxis(op, 'dilation', o.dilation, dims, 1);
  const padding = perAxis(op, 'padding', o.padding, dims, 0, isNonNegativeInt, 'non-negative integer');
  const outputPadding = perAxis(op, 'outputPadding', o.outputPadding, dims, 0, isNonNegativeInt, 'non-negative integer');
  const outSpatial = act.spatial.map((size, a) => {
    if (outputPadding[a] >= stride[a] && outputPadding[a] >= dilation[a]) {
      throw invalid(
        `${op}: outputPadding ${outputPadding[a]} on spatial axis ${a} must be smaller than either stride (${stride[a]}) or dilation (${dilation[a]})`,
      );
    }
    const out = transposeOutputLength(size, kernel[a], stride[a], padding[a], dilation[a], outputPadding[a]);
    if (out < 1) throw invalid(`${op}: padding ${padding[a]} on spatial axis ${a} leaves an empty output (size ${out})`);
    return out;
  });
  return {
    op,
    kind: 'convTranspose',
    problem: {
      inputShape: [act.batch, act.channels, ...act.spatial],
      weightShape: [...weight.shape],
      outputShape: [act.batch, outChannels, ...outSpatial],
      stride,
      padding,
      outputPadding,
      dilation,
      groups,
      hasBias: bias !== undefined,
    },
    arrays: [act.data, weight.data, bias],
    activation: act,
    backend: readBackend(op, o.backend),
  };
}
