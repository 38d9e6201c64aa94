/** The worker pool: every op as an async method, run on the same backend interface inside workers.
 * Calls are validated here, split into pieces (split.ts), run on the least busy workers and joined.
 * A worker that dies or is aborted is replaced; its call rejects with a ConvkitError. */

import * as Comlink from 'comlink';
import { finishConv, normalizeConv, optionsObject, type ConvCall, type ConvOptions } from '../api/conv-options.js';
import { ConvkitError, invalid } from '../api/errors.js';
import { product, type Tensor } from '../api/tensor.js';
import { coreCount } from '../env.js';
import type { BackendInfo, InitOptions } from '../runtime.js';
import { pieceInputs, pieceProblem, placePieceOutput, splitConv, type ConvPiece } from './split.js';
import { WorkerHandle } from './worker-handle.js';

export interface PoolOptions extends InitOptions {
  /** Number of workers. Default: the number of cores. */
  workers?: number;
  /** URL of convkit's worker script. Default: `worker.js` next to this module. */
  workerUrl?: string | URL;
}

export interface PoolCallOptions {
  /** Aborting rejects the call with ABORTED and restarts the workers running it. */
  signal?: AbortSignal;
  /** The input buffers may be transferred to the worker instead of copied (they become unusable). */
  transfer?: boolean;
}

export type PoolConvOptions = ConvOptions & PoolCallOptions;

export interface Pool {
  readonly size: number;
  /** The backend the workers loaded. */
  readonly info: BackendInfo;
  conv1d(x: Tensor, weight: Tensor, opts?: PoolConvOptions): Promise<Tensor>;
  conv2d(x: Tensor, weight: Tensor, opts?: PoolConvOptions): Promise<Tensor>;
  conv3d(x: Tensor, weight: Tensor, opts?: PoolConvOptions): Promise<Tensor>;
  terminate(): Promise<void>;
}

interface Slot {
  worker: Promise<WorkerHandle>;
  busy: number;
}

function defaultWorkerUrl(): URL {
  return new URL('./worker.js', import.meta.url);
}

export async function createPool(opts: PoolOptions = {}): Promise<Pool> {
  const size = opts.workers ?? (await coreCount());
  if (!Number.isInteger(size) || size < 1) {
    throw invalid(`createPool: workers must be a positive integer, got ${JSON.stringify(opts.workers)}`);
  }
  const workerUrl = new URL(opts.workerUrl ?? defaultWorkerUrl(), defaultWorkerUrl());
  const initOptions: InitOptions = {
    wasm: opts.wasm,
    simd: opts.simd,
    // Workers resolve relative URLs against their own script; send an absolute one.
    wasmBase: opts.wasmBase === undefined ? undefined : new URL(opts.wasmBase, globalThis.location?.href ?? workerUrl).href,
  };
  let terminated = false;
  let info: BackendInfo | undefined;

  const start = async (): Promise<WorkerHandle> => {
    const handle = await WorkerHandle.spawn(workerUrl);
    try {
      info = await Promise.race([handle.remote.init(initOptions), handle.failure]);
    } catch (e) {
      handle.kill(new ConvkitError('WORKER_FAILED', 'worker failed to start'));
      throw e instanceof ConvkitError ? e : new ConvkitError('WORKER_FAILED', `worker failed to start: ${String(e)}`);
    }
    handle.keepAlive(false);
    return handle;
  };
  const slots: Slot[] = [];
  for (let i = 0; i < size; i++) slots.push({ worker: start(), busy: 0 });
  try {
    await Promise.all(slots.map((s) => s.worker));
  } catch (e) {
    for (const s of slots) s.worker.then((w) => w.kill(new ConvkitError('ABORTED', 'pool closed')), () => {});
    throw e;
  }

  /** Replaces a slot's worker if it is still the given (dead or aborted) one. */
  const replace = (slot: Slot, dead: WorkerHandle) => {
    void slot.worker.then((current) => {
      if (current === dead && !terminated) {
        slot.worker = start();
        slot.worker.catch(() => {});
      }
    });
  };

  async function runPiece(
    call: ConvCall,
    piece: ConvPiece,
    callOpts: PoolCallOptions,
    aborted: Promise<never>,
  ): Promise<Float32Array> {
    const slot = slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    slot.busy++;
    const worker = await slot.worker;
    worker.keepAlive(true);
    try {
      const args = pieceInputs(call.problem, piece, call.input, call.weight, call.bias);
      // Pieces are our own copies and always move; the caller's buffers move only if allowed.
      const movable = (a: Float32Array | undefined, own: boolean) =>
        a && (own || callOpts.transfer) ? Comlink.transfer(a, [a.buffer]) : a;
      const result = await Promise.race([
        worker.remote.conv(
          pieceProblem(call.problem, piece),
          movable(args.input, args.input !== call.input)!,
          movable(args.weight, args.weight !== call.weight)!,
          movable(args.bias, args.bias !== call.bias),
          call.backend,
        ),
        worker.failure,
        aborted,
      ]);
      if (!result.ok) throw new ConvkitError(result.code ?? 'WORKER_FAILED', result.message);
      return result.value;
    } catch (e) {
      // Wasm cannot be interrupted: an aborted call's worker is ended and replaced. Other calls
      // queued on it were not aborted, so they fail as WORKER_FAILED.
      if (e instanceof ConvkitError && e.code === 'ABORTED') {
        worker.kill(new ConvkitError('WORKER_FAILED', 'worker restarted: another call running on it was aborted'));
        replace(slot, worker);
      } else if (e instanceof ConvkitError && e.code === 'WORKER_FAILED') {
        worker.kill(e);
        replace(slot, worker);
      }
      throw e;
    } finally {
      slot.busy--;
      if (slot.busy === 0 && worker.alive) worker.keepAlive(false);
    }
  }

  async function conv(op: string, dims: number, x: Tensor, weight: Tensor, opts?: PoolConvOptions): Promise<Tensor> {
    if (terminated) throw new ConvkitError('UNSUPPORTED', `${op}: the pool was terminated`);
    const { signal, transfer, ...convOpts } = optionsObject(op, opts) as PoolConvOptions;
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw invalid(`${op}: signal must be an AbortSignal`);
    }
    const call = normalizeConv(op, dims, x, weight, convOpts);
    if (call.backend === 'wasm' && info?.backend === 'js') {
      throw new ConvkitError('UNSUPPORTED', `${op}: backend 'wasm' is not loaded in the pool's workers`);
    }
    const abortError = () => new ConvkitError('ABORTED', `${op}: aborted`);
    if (signal?.aborted) throw abortError();
    if (call.problem.inputShape[0] === 0) return finishConv(call, new Float32Array(0));
    const aborted = new Promise<never>((_, reject) => signal?.addEventListener('abort', () => reject(abortError()), { once: true }));
    aborted.catch(() => {});

    const pieces = splitConv(call.problem, size);
    const outputs = await Promise.all(
      pieces.map((piece) => runPiece(call, piece, { signal, transfer }, aborted)),
    );
    if (pieces.length === 1) return finishConv(call, outputs[0]);
    const output = new Float32Array(product(call.problem.outputShape));
    pieces.forEach((piece, i) => placePieceOutput(call.problem, piece, output, outputs[i]));
    return finishConv(call, output);
  }

  return {
    size,
    get info() {
      return info!;
    },
    conv1d: (x, w, o) => conv('conv1d', 1, x, w, o),
    conv2d: (x, w, o) => conv('conv2d', 2, x, w, o),
    conv3d: (x, w, o) => conv('conv3d', 3, x, w, o),
    async terminate() {
      terminated = true;
      const workers = await Promise.allSettled(slots.map((s) => s.worker));
      for (const w of workers) {
        if (w.status === 'fulfilled') w.value.kill(new ConvkitError('ABORTED', 'the pool was terminated'));
      }
    },
  };
}
