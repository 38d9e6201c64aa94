import type { Backend } from '../backend.js';
import { convJs } from './conv.js';
import { convTransposeJs } from './conv-transpose.js';
import { deformConvJs } from './deform-conv.js';
import { poolJs } from './pool.js';

export const jsBackend: Backend = {
  kind: 'js',
  conv: convJs,
  convTranspose: convTransposeJs,
  pool: poolJs,
  deformConv: deformConvJs,
};
