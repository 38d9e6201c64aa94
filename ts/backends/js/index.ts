import type { Backend } from '../backend.js';
import { convJs } from './conv.js';

export const jsBackend: Backend = {
  kind: 'js',
  conv: convJs,
};
