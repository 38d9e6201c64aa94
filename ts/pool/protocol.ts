/** What the pool and its workers say to each other. Results are tagged instead of thrown because
 * Comlink carries only an Error's message across, and the caller needs the ConvkitError code. */

import type { BackendName } from '../api/conv-options.js';
import type { ErrorCode } from '../api/errors.js';
import type { ConvProblem } from '../api/problem.js';
import type { BackendInfo, InitOptions } from '../runtime.js';

export type WorkerResult<T> = { ok: true; value: T } | { ok: false; code: ErrorCode | undefined; message: string };

export interface WorkerApi {
  init(opts: InitOptions): Promise<BackendInfo>;
  conv(
    problem: ConvProblem,
    input: Float32Array,
    weight: Float32Array,
    bias: Float32Array | undefined,
    backend: BackendName | undefined,
  ): WorkerResult<Float32Array>;
}
