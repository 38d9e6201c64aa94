// Bad input to the transposed, pooling and composite ops: a ConvkitError naming the argument.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConvkit, tensor, type Convkit } from './helpers.js';

const x = tensor([1, 4, 6, 6], 1);

type Case = [name: string, op: string, code: string, mention: RegExp, args: () => unknown[]];
const cases: Case[] = [
  ['transpose channel mismatch', 'convTranspose2d', 'SHAPE_MISMATCH', /weight has 3 input channels/, () => [x, tensor([3, 2, 3, 3])]],
  ['transpose output padding too large', 'convTranspose2d', 'INVALID_ARGUMENT', /outputPadding 2 .* smaller than either stride \(2\) or dilation \(1\)/, () => [x, tensor([4, 2, 3, 3]), { stride: 2, outputPadding: 2 }]],
  ['transpose negative padding', 'convTranspose2d', 'INVALID_ARGUMENT', /padding must be a non-negative integer/, () => [x, tensor([4, 2, 3, 3]), { padding: -1 }]],
  ['transpose padding leaves nothing', 'convTranspose2d', 'INVALID_ARGUMENT', /leaves an empty output/, () => [x, tensor([4, 2, 1, 1]), { padding: 3 }]],
  ['transpose zero stride', 'convTranspose2d', 'INVALID_ARGUMENT', /stride/, () => [x, tensor([4, 2, 3, 3]), { stride: 0 }]],
  ['transpose groups', 'convTranspose2d', 'INVALID_ARGUMENT', /groups=3 must divide/, () => [x, tensor([4, 2, 3, 3]), { groups: 3 }]],
  ['transpose bias length', 'convTranspose2d', 'SHAPE_MISMATCH', /bias has 3 elements/, () => [x, tensor([4, 2, 3, 3]), { bias: new Float32Array(3) }]],
  ['pool without kernelSize', 'maxPool2d', 'INVALID_ARGUMENT', /kernelSize is required/, () => [x, {}]],
  ['pool padding over half the kernel', 'maxPool2d', 'INVALID_ARGUMENT', /at most half the kernel size/, () => [x, { kernelSize: 2, padding: 2 }]],
  ['pool kernel larger than input', 'avgPool2d', 'INVALID_ARGUMENT', /larger than the padded input/, () => [x, { kernelSize: 7 }]],
  ['pool zero stride', 'maxPool2d', 'INVALID_ARGUMENT', /stride/, () => [x, { kernelSize: 2, stride: 0 }]],
  ['avg pool has no dilation', 'avgPool2d', 'INVALID_ARGUMENT', /unknown option 'dilation'/, () => [x, { kernelSize: 2, dilation: 2 }]],
  ['max pool has no divisor', 'maxPool2d', 'INVALID_ARGUMENT', /unknown option 'divisorOverride'/, () => [x, { kernelSize: 2, divisorOverride: 2 }]],
  ['divisorOverride zero', 'avgPool2d', 'INVALID_ARGUMENT', /divisorOverride must be a positive integer/, () => [x, { kernelSize: 2, divisorOverride: 0 }]],
  ['pool NaN in shape', 'maxPool2d', 'INVALID_ARGUMENT', /x\.shape/, () => [{ data: x.data, shape: [1, 4, NaN, 6] }, { kernelSize: 2 }]],
  ['global pool of a vector', 'globalAvgPool', 'INVALID_ARGUMENT', /x must have 3 or 4 or 5 dimensions/, () => [tensor([4, 6])]],
  ['depthwise with groups', 'depthwiseConv2d', 'INVALID_ARGUMENT', /groups is implied/, () => [x, tensor([4, 1, 3, 3]), { groups: 2 }]],
  ['depthwise weight not [C*m, 1, ...]', 'depthwiseConv2d', 'SHAPE_MISMATCH', /weight must be \[C \* multiplier, 1, kh, kw\]/, () => [x, tensor([4, 4, 3, 3])]],
  ['pointwise weight not 1x1', 'pointwiseConv2d', 'SHAPE_MISMATCH', /weight must be \[Cout, C\/groups, 1, 1\]/, () => [x, tensor([4, 4, 3, 3])]],
  ['separable weights do not chain', 'separableConv2d', 'SHAPE_MISMATCH', /pointwiseWeight must be \[Cout, 4, 1, 1\]/, () => [x, tensor([4, 1, 3, 3]), tensor([5, 3, 1, 1])]],
  ['separable pointwise bias length', 'separableConv2d', 'SHAPE_MISMATCH', /bias has 2 elements/, () => [x, tensor([4, 1, 3, 3]), tensor([5, 4, 1, 1]), { bias: new Float32Array(2) }]],
  ['sepFilter kernel not a Float32Array', 'sepFilter2d', 'INVALID_ARGUMENT', /kernelY must be a non-empty Float32Array/, () => [x, [1, 2, 1], new Float32Array(3)]],
  ['sepFilter reflect pad too wide', 'sepFilter2d', 'INVALID_ARGUMENT', /too large for paddingMode 'reflect'/, () => [x, new Float32Array(3), new Float32Array(3), { padding: 6, paddingMode: 'reflect' }]],
  ['deform offset channels', 'deformConv2d', 'SHAPE_MISMATCH', /offset has 17 channels; expected 2 \* offsetGroups \* 9/, () => [x, tensor([1, 17, 4, 4]), tensor([2, 4, 3, 3])]],
  ['deform offset spatial size', 'deformConv2d', 'SHAPE_MISMATCH', /offset must have shape \[1, 18, 4, 4\]/, () => [x, tensor([1, 18, 5, 5]), tensor([2, 4, 3, 3])]],
  ['deform mask shape', 'deformConv2d', 'SHAPE_MISMATCH', /mask must have shape \[1, 9, 4, 4\]/, () => [x, tensor([1, 18, 4, 4]), tensor([2, 4, 3, 3]), { mask: tensor([1, 18, 4, 4]) }]],
  ['deform offset groups not dividing channels', 'deformConv2d', 'SHAPE_MISMATCH', /offsetGroups dividing the 4 input channels/, () => [x, tensor([1, 54, 4, 4]), tensor([2, 4, 3, 3])]],
  ['deform channel mismatch', 'deformConv2d', 'SHAPE_MISMATCH', /weight has 3 input channels per group/, () => [x, tensor([1, 18, 4, 4]), tensor([2, 3, 3, 3])]],
  ['deform unbatched', 'deformConv2d', 'INVALID_ARGUMENT', /x must have 4 dimensions/, () => [tensor([4, 6, 6]), tensor([1, 18, 4, 4]), tensor([2, 4, 3, 3])]],
  // Gradients: the forward's checks, then gradOutput against the forward output's shape.
  ['backward gradOutput spatial size', 'conv2dBackward', 'SHAPE_MISMATCH', /gradOutput must have the forward output's shape \[1, 2, 4, 4\], got \[1, 2, 6, 6\]/, () => [x, tensor([2, 4, 3, 3]), tensor([1, 2, 6, 6])]],
  ['backward gradOutput channels-last order', 'conv2dBackward', 'SHAPE_MISMATCH', /forward output's shape \[1, 4, 6, 2\], got \[1, 2, 6, 6\]/, () => [x, tensor([2, 6, 3, 3]), tensor([1, 2, 6, 6]), { layout: 'channels-last', padding: 1 }]],
  ['backward gradOutput batched for an unbatched call', 'conv1dBackward', 'INVALID_ARGUMENT', /gradOutput must have 2 dimensions, got 3/, () => [tensor([4, 6]), tensor([2, 4, 3]), tensor([1, 2, 4])]],
  ['backward gradOutput not a tensor', 'maxPool2dBackward', 'INVALID_ARGUMENT', /gradOutput must be a tensor/, () => [x, [1, 2, 3], { kernelSize: 2 }]],
  ['backward gradOutput data length', 'avgPool2dBackward', 'SHAPE_MISMATCH', /gradOutput\.data has 5 elements but shape \[1, 4, 3, 3\] needs 36/, () => [x, { data: new Float32Array(5), shape: [1, 4, 3, 3] }, { kernelSize: 2 }]],
  ['backward mismatched options', 'conv2dBackward', 'SHAPE_MISMATCH', /forward output's shape \[1, 2, 3, 3\], got \[1, 2, 4, 4\]/, () => [x, tensor([2, 4, 3, 3]), tensor([1, 2, 4, 4]), { stride: 2, padding: 1 }]],
  ['backward forward checks still apply', 'convTranspose2dBackward', 'SHAPE_MISMATCH', /weight has 3 input channels/, () => [x, tensor([3, 2, 3, 3]), tensor([1, 2, 8, 8])]],
  ['backward of a composite checks gradOutput first', 'separableConv2dBackward', 'SHAPE_MISMATCH', /gradOutput must have the forward output's shape \[1, 5, 4, 4\]/, () => [x, tensor([4, 1, 3, 3]), tensor([5, 4, 1, 1]), tensor([1, 5, 6, 6])]],
  ['backward of sepFilter2d', 'sepFilter2dBackward', 'SHAPE_MISMATCH', /gradOutput must have the forward output's shape \[1, 4, 6, 6\]/, () => [x, new Float32Array(3), new Float32Array(3), tensor([1, 4, 4, 4]), { padding: 1 }]],
  ['backward deform gradOutput', 'deformConv2dBackward', 'SHAPE_MISMATCH', /gradOutput must have the forward output's shape \[1, 2, 4, 4\]/, () => [x, tensor([1, 18, 4, 4]), tensor([2, 4, 3, 3]), tensor([1, 3, 4, 4])]],
  ['backward global pool gradOutput', 'globalMaxPoolBackward', 'SHAPE_MISMATCH', /forward output's shape \[1, 4, 1, 1\]/, () => [x, tensor([1, 4, 6, 6])]],
];

describe.each(['wasm-simd', 'js'] as const)('op errors (%s)', (kind) => {
  let ck: Convkit;
  beforeAll(async () => {
    ck = await loadConvkit(kind);
  });
  it.each(cases)('%s', (_, op, code, mention, args) => {
    const before = x.data.slice();
    const fn = ck[op as keyof Convkit] as (...a: unknown[]) => unknown;
    let error: unknown;
    try {
      fn(...args());
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ck.ConvkitError);
    expect(error).toMatchObject({ code, message: expect.stringMatching(new RegExp(`^${op}: `)) });
    expect((error as Error).message).toMatch(mention);
    expect(x.data).toEqual(before);
    expect(ck.maxPool2d(x, { kernelSize: 2 })).toMatchObject({ shape: [1, 4, 3, 3] });
  });
});
