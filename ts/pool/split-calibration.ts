// The pool's split thresholds by kind of work (split.ts): the least work (multiply-adds; output
// elements x window for pooling; pixels x channels x taps for image filters) from which two
// workers beat one in a sweep, measured by
// `npm run calibrate` (bench/calibrate.mjs) on 2026-11-23, AMD EPYC, Node v20.20.2; do not edit by hand.
export const SPLIT_MIN_WORK = {
  gemm: 14450688,
  perChannel: Infinity,
  pool: 451584,
  image: 110592,
} as const;
