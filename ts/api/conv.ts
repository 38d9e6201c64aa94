import { product, type Tensor } from './tensor.js';
import { finishConv, normalizeConv, type ConvCall, type ConvOptions } from './conv-options.js';
import { resolveBackend } from '../runtime.js';

/** Runs a validated call on its backend (an empty batch needs no backend). */
export function runConv(op: string, call: ConvCall): Tensor {
  const backend = resolveBackend(op, call.backend);
  const output =
    call.problem.inputShape[0] === 0
      ? new Float32Array(0)
      : backend.conv(call.problem, call.input, call.weight, call.bias);
  if (output.length !== product(call.problem.outputShape)) {
    throw new Error(`${op}: backend ${backend.kind} returned ${output.length} values, expected ${product(call.problem.outputShape)}`);
  }
  return finishConv(call, output);
}

/** 1D convolution: x `[N, C, L]` (or `[C, L]`), weight `[Cout, C/groups, K]`. */
export function conv1d(x: Tensor, weight: Tensor, opts?: ConvOptions): Tensor {
  return runConv('conv1d', normalizeConv('conv1d', 1, x, weight, opts));
}

/** 2D convolution: x `[N, C, H, W]` (or `[C, H, W]`), weight `[Cout, C/groups, kh, kw]`. */
export function conv2d(x: Tensor, weight: Tensor, opts?: ConvOptions): Tensor {
  return runConv('conv2d', normalizeConv('conv2d', 2, x, weight, opts));
}

/** 3D convolution: x `[N, C, D, H, W]` (or `[C, D, H, W]`), weight `[Cout, C/groups, kd, kh, kw]`. */
export function conv3d(x: Tensor, weight: Tensor, opts?: ConvOptions): Tensor {
  return runConv('conv3d', normalizeConv('conv3d', 3, x, weight, opts));
}
