import type { Backend } from '../backend.js';
import { convJs } from './conv.js';
import { convBackwardJs, convTransposeBackwardJs } from './conv-backward.js';
import { convTransposeJs } from './conv-transpose.js';
import { deformConvBackwardJs, deformConvJs } from './deform-conv.js';
import { poolBackwardJs, poolJs } from './pool.js';

export const jsBackend: Backend = {
  kind: 'js',
  conv: convJs,
  convTranspose: convTransposeJs,
  pool: poolJs,
  deformConv: deformConvJs,
  convBackward: convBackwardJs,
  convTransposeBackward: convTransposeBackwardJs,
  poolBackward: poolBackwardJs,
  deformConvBackward: deformConvBackwardJs,
};
