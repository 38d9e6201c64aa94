/** What the pool and its workers say to each other. Results are tagged instead of thrown because
 * Comlink carries only an Error's message across, and the caller needs the ConvkitError code. */

import type { OpCall } from '../api/call.js';
import type { FilteredImage, ImageLike } from '../api/image.js';
import type { FilterPlan } from '../api/image-filters.js';
import type { BackendName } from '../api/options.js';
import type { ErrorCode } from '../api/errors.js';
import type { OpKind, ResultArrays } from '../backends/backend.js';
import type { BackendInfo, InitOptions } from '../runtime.js';

export type WorkerResult<T> = { ok: true; value: T } | { ok: false; code: ErrorCode | undefined; message: string };

export interface PieceResult {
  results: ResultArrays;
  spent: (Float32Array | undefined)[];
}

export interface WorkerApi {
  init(opts: InitOptions): Promise<BackendInfo>;
  /** Runs one backend method by name. The caller's buffers all come back: the results in `into`
   * (arrays of the results' sizes), and `arrays` as `spent` (see `postPiece` in pool.ts). */
  run(
    kind: OpKind,
    problem: OpCall['problem'],
    arrays: (Float32Array | undefined)[],
    backend: BackendName | undefined,
    into: ResultArrays,
  ): WorkerResult<PieceResult>;
  /** Filters a band of image rows (`filterBand` in image-filters.ts). */
  filter(band: ImageLike, plan: FilterPlan, firstRow: number): WorkerResult<FilteredImage>;
  /** Frees the worker's prepared convolution kernels (`clearCache` in runtime.ts). */
  clearCache(): void;
}
