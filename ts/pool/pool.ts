/** The worker pool: every op as an async method, run on the same backend interface inside workers.
 * Calls are validated here, split into pieces (split.ts), run on the least busy workers and joined.
 * A worker that dies or is aborted is replaced; its call rejects with a ConvkitError. */

import * as Comlink from 'comlink';
import {
  backwardCall,
  type ConvGradients,
  type DeformConvGradients,
  type PoolGradients,
  type SeparableConvGradients,
  type SepFilterGradients,
} from '../api/backward.js';
import { finishCall, newResults, resultSpecs, type CallResult, type OpCall } from '../api/call.js';
import {
  depthwiseCall,
  pointwiseCall,
  runStepsAsync,
  separableBackwardSteps,
  separableSteps,
  sepFilterBackwardSteps,
  sepFilterSteps,
  type SeparableConvOptions,
  type SepFilterOptions,
  type Steps,
} from '../api/composites.js';
import { normalizeConv, type ConvOptions } from '../api/conv-options.js';
import { normalizeDeformConv, type DeformConvOptions } from '../api/deform-options.js';
import { ConvkitError, invalid, withOp } from '../api/errors.js';
import { asImageData, type FilteredImage, type FilterOptions, type ImageLike, type KernelInput } from '../api/image.js';
import { checkFilterMemory, filterBand, imageCalls, type DirectionOptions, type EmbossDirection, type FilterCall, type GradientDirection } from '../api/image-filters.js';
import { checkMemory, memoryLimit, readMemoryLimit } from '../api/memory.js';
import { fmt, optionsObject, type BackendName } from '../api/options.js';
import { normalizeGlobalPool, normalizePool, type AvgPoolOptions, type GlobalPoolOptions, type PoolingOptions } from '../api/pool-options.js';
import { product, type Tensor } from '../api/tensor.js';
import { normalizeConvTranspose, type ConvTransposeOptions } from '../api/transpose-options.js';
import type { ResultArrays } from '../backends/backend.js';
import { coreCount } from '../env.js';
import { checkBuildFlags, loadedWasmBuild, type BackendInfo, type InitOptions } from '../runtime.js';
import { BufferStash } from './buffer-stash.js';
import type { PieceResult, WorkerResult } from './protocol.js';
import { imageRowPieces, pieceArgs, placeResults, splitCall, sumResults, type Piece } from './split.js';
import { WorkerHandle } from './worker-handle.js';

export interface CreatePoolOptions extends InitOptions {
  /** Number of workers. Default: the number of cores. */
  workers?: number;
  /** URL of convkit's worker script. Default: `worker.js` next to this module. */
  workerUrl?: string | URL;
  /** Calls with less work than this (multiply-adds; output elements times the window for pooling;
   * pixels times channels times taps for image filters) run whole on one worker. Default: the
   * thresholds `npm run calibrate` measured for each kind of work (split.ts). 0 splits every call
   * that can be split; Infinity splits none. */
  minWorkToSplit?: number;
}

export interface PoolCallOptions {
  /** Aborting rejects the call with ABORTED and restarts the workers running it. */
  signal?: AbortSignal;
  /** A call that runs as one piece moves the input buffers to the worker instead of copying them
   * (they become detached). Split calls and multi-step composites copy. */
  transfer?: boolean;
}

type WithCall<O> = O & PoolCallOptions;
type Indexed = { output: Tensor; indices: Int32Array };

/** Every op of the library (and its gradient) as an async method running in the workers; options
 * add `signal` and `transfer`. */
export interface Pool {
  readonly size: number;
  /** The backend the workers loaded. */
  readonly info: BackendInfo;
  stats(): PoolStats;
  conv1d(x: Tensor, weight: Tensor, opts?: WithCall<ConvOptions>): Promise<Tensor>;
  conv2d(x: Tensor, weight: Tensor, opts?: WithCall<ConvOptions>): Promise<Tensor>;
  conv3d(x: Tensor, weight: Tensor, opts?: WithCall<ConvOptions>): Promise<Tensor>;
  convTranspose1d(x: Tensor, weight: Tensor, opts?: WithCall<ConvTransposeOptions>): Promise<Tensor>;
  convTranspose2d(x: Tensor, weight: Tensor, opts?: WithCall<ConvTransposeOptions>): Promise<Tensor>;
  convTranspose3d(x: Tensor, weight: Tensor, opts?: WithCall<ConvTransposeOptions>): Promise<Tensor>;
  depthwiseConv2d(x: Tensor, weight: Tensor, opts?: WithCall<ConvOptions>): Promise<Tensor>;
  pointwiseConv2d(x: Tensor, weight: Tensor, opts?: WithCall<ConvOptions>): Promise<Tensor>;
  separableConv2d(x: Tensor, depthwiseWeight: Tensor, pointwiseWeight: Tensor, opts?: WithCall<SeparableConvOptions>): Promise<Tensor>;
  sepFilter2d(x: Tensor, kernelY: Float32Array, kernelX: Float32Array, opts?: WithCall<SepFilterOptions>): Promise<Tensor>;
  maxPool1d(x: Tensor, opts: WithCall<PoolingOptions>): Promise<Tensor | Indexed>;
  maxPool2d(x: Tensor, opts: WithCall<PoolingOptions>): Promise<Tensor | Indexed>;
  maxPool3d(x: Tensor, opts: WithCall<PoolingOptions>): Promise<Tensor | Indexed>;
  minPool1d(x: Tensor, opts: WithCall<PoolingOptions>): Promise<Tensor | Indexed>;
  minPool2d(x: Tensor, opts: WithCall<PoolingOptions>): Promise<Tensor | Indexed>;
  minPool3d(x: Tensor, opts: WithCall<PoolingOptions>): Promise<Tensor | Indexed>;
  avgPool1d(x: Tensor, opts: WithCall<AvgPoolOptions>): Promise<Tensor>;
  avgPool2d(x: Tensor, opts: WithCall<AvgPoolOptions>): Promise<Tensor>;
  avgPool3d(x: Tensor, opts: WithCall<AvgPoolOptions>): Promise<Tensor>;
  globalAvgPool(x: Tensor, opts?: WithCall<GlobalPoolOptions>): Promise<Tensor>;
  globalMaxPool(x: Tensor, opts?: WithCall<GlobalPoolOptions>): Promise<Tensor>;
  deformConv2d(x: Tensor, offset: Tensor, weight: Tensor, opts?: WithCall<DeformConvOptions>): Promise<Tensor>;
  conv1dBackward(x: Tensor, weight: Tensor, gradOutput: Tensor, opts?: WithCall<ConvOptions>): Promise<ConvGradients>;
  conv2dBackward(x: Tensor, weight: Tensor, gradOutput: Tensor, opts?: WithCall<ConvOptions>): Promise<ConvGradients>;
  conv3dBackward(x: Tensor, weight: Tensor, gradOutput: Tensor, opts?: WithCall<ConvOptions>): Promise<ConvGradients>;
  convTranspose1dBackward(x: Tensor, weight: Tensor, gradOutput: Tensor, opts?: WithCall<ConvTransposeOptions>): Promise<ConvGradients>;
  convTranspose2dBackward(x: Tensor, weight: Tensor, gradOutput: Tensor, opts?: WithCall<ConvTransposeOptions>): Promise<ConvGradients>;
  convTranspose3dBackward(x: Tensor, weight: Tensor, gradOutput: Tensor, opts?: WithCall<ConvTransposeOptions>): Promise<ConvGradients>;
  depthwiseConv2dBackward(x: Tensor, weight: Tensor, gradOutput: Tensor, opts?: WithCall<ConvOptions>): Promise<ConvGradients>;
  pointwiseConv2dBackward(x: Tensor, weight: Tensor, gradOutput: Tensor, opts?: WithCall<ConvOptions>): Promise<ConvGradients>;
  separableConv2dBackward(
    x: Tensor,
    depthwiseWeight: Tensor,
    pointwiseWeight: Tensor,
    gradOutput: Tensor,
    opts?: WithCall<SeparableConvOptions>,
  ): Promise<SeparableConvGradients>;
  sepFilter2dBackward(x: Tensor, kernelY: Float32Array, kernelX: Float32Array, gradOutput: Tensor, opts?: WithCall<SepFilterOptions>): Promise<SepFilterGradients>;
  maxPool1dBackward(x: Tensor, gradOutput: Tensor, opts: WithCall<PoolingOptions>): Promise<PoolGradients>;
  maxPool2dBackward(x: Tensor, gradOutput: Tensor, opts: WithCall<PoolingOptions>): Promise<PoolGradients>;
  maxPool3dBackward(x: Tensor, gradOutput: Tensor, opts: WithCall<PoolingOptions>): Promise<PoolGradients>;
  minPool1dBackward(x: Tensor, gradOutput: Tensor, opts: WithCall<PoolingOptions>): Promise<PoolGradients>;
  minPool2dBackward(x: Tensor, gradOutput: Tensor, opts: WithCall<PoolingOptions>): Promise<PoolGradients>;
  minPool3dBackward(x: Tensor, gradOutput: Tensor, opts: WithCall<PoolingOptions>): Promise<PoolGradients>;
  avgPool1dBackward(x: Tensor, gradOutput: Tensor, opts: WithCall<AvgPoolOptions>): Promise<PoolGradients>;
  avgPool2dBackward(x: Tensor, gradOutput: Tensor, opts: WithCall<AvgPoolOptions>): Promise<PoolGradients>;
  avgPool3dBackward(x: Tensor, gradOutput: Tensor, opts: WithCall<AvgPoolOptions>): Promise<PoolGradients>;
  globalAvgPoolBackward(x: Tensor, gradOutput: Tensor, opts?: WithCall<GlobalPoolOptions>): Promise<PoolGradients>;
  globalMaxPoolBackward(x: Tensor, gradOutput: Tensor, opts?: WithCall<GlobalPoolOptions>): Promise<PoolGradients>;
  deformConv2dBackward(x: Tensor, offset: Tensor, weight: Tensor, gradOutput: Tensor, opts?: WithCall<DeformConvOptions>): Promise<DeformConvGradients>;
  filter2d(image: ImageLike, kernel: KernelInput, opts?: WithCall<FilterOptions>): Promise<FilteredImage>;
  boxBlur(image: ImageLike, radius: number, opts?: WithCall<FilterOptions>): Promise<FilteredImage>;
  gaussianBlur(image: ImageLike, sigma: number, opts?: WithCall<FilterOptions>): Promise<FilteredImage>;
  sharpen(image: ImageLike, opts?: WithCall<FilterOptions>): Promise<FilteredImage>;
  laplacian(image: ImageLike, opts?: WithCall<FilterOptions>): Promise<FilteredImage>;
  sobel(image: ImageLike, opts?: WithCall<DirectionOptions<GradientDirection>>): Promise<FilteredImage>;
  prewitt(image: ImageLike, opts?: WithCall<DirectionOptions<GradientDirection>>): Promise<FilteredImage>;
  emboss(image: ImageLike, opts?: WithCall<DirectionOptions<EmbossDirection>>): Promise<FilteredImage>;
  terminate(): Promise<void>;
  /** Frees the prepared convolution kernels every worker keeps for calls that reuse a weight, and
   * the buffers the pool keeps for the pieces of its calls. */
  clearCache(): Promise<void>;
}

/** The most bytes of recycled piece buffers a pool keeps. */
const STASH_BYTES = 64 * 1024 * 1024;

/** Results from this size on get faulted replacements in the stash (smaller allocations come from
 * memory the allocator already holds). */
const RESTOCK_BYTES = 128 * 1024;

/** Posts one piece to a worker (built again if it has to be re-sent). */
type Post<T> = (worker: WorkerHandle) => Promise<WorkerResult<T>>;

interface Slot {
  worker: Promise<WorkerHandle>;
  /** The started worker the slot holds now (undefined while a replacement starts). */
  current?: WorkerHandle;
  busy: number;
}

/** What the pool holds right now (diagnostics: for leak checks and monitoring). */
export interface PoolStats {
  /** Live worker threads. */
  workers: number;
  /** Workers replaced after dying or being aborted, since the pool started. */
  restarts: number;
  /** Pieces of calls sent to workers and not yet settled. */
  inFlight: number;
  /** Node only: event listeners on the worker threads (undefined elsewhere). */
  listeners: number | undefined;
}

function defaultWorkerUrl(): URL {
  return new URL('./worker.js', import.meta.url);
}

export async function createPool(opts: CreatePoolOptions = {}): Promise<Pool> {
  const size = opts.workers ?? (await coreCount());
  if (!Number.isInteger(size) || size < 1) {
    throw invalid(`createPool: workers must be a positive integer, got ${JSON.stringify(opts.workers)}`);
  }
  checkBuildFlags('createPool', opts);
  const { minWorkToSplit } = opts;
  if (minWorkToSplit !== undefined && !(typeof minWorkToSplit === 'number' && minWorkToSplit >= 0)) {
    throw invalid(`createPool: minWorkToSplit must be a number >= 0, got ${fmt(minWorkToSplit)}`);
  }
  const workerUrl = new URL(opts.workerUrl ?? defaultWorkerUrl(), defaultWorkerUrl());
  // Unless told otherwise, the workers load the wasm build this thread loaded, so a pooled call
  // computes what the same call here does (relaxed SIMD may round differently from SIMD128).
  const own = loadedWasmBuild();
  const initOptions: InitOptions = {
    wasm: opts.wasm,
    simd: opts.simd ?? (own === undefined ? undefined : own !== 'scalar'),
    relaxed: opts.relaxed ?? (own === undefined ? undefined : own === 'relaxed'),
    // Workers resolve relative URLs against their own script; send an absolute one.
    wasmBase: opts.wasmBase === undefined ? undefined : new URL(opts.wasmBase, globalThis.location?.href ?? workerUrl).href,
  };
  // Checked here, for the whole call, before anything is copied to the workers.
  const ownLimit = opts.memoryLimit === undefined ? undefined : readMemoryLimit('createPool', opts.memoryLimit);
  let terminated = false;
  /** Buffers the pieces of earlier calls sent and got back (buffer-stash.ts). */
  const stash = new BufferStash(STASH_BYTES);
  let info: BackendInfo | undefined;

  const start = async (): Promise<WorkerHandle> => {
    const handle = await WorkerHandle.spawn(workerUrl);
    try {
      info = await Promise.race([handle.init(initOptions), handle.failure]);
    } catch (e) {
      handle.kill(new ConvkitError('WORKER_FAILED', 'worker failed to start'));
      throw e instanceof ConvkitError ? e : new ConvkitError('WORKER_FAILED', `worker failed to start: ${String(e)}`);
    }
    handle.keepAlive(false);
    live.add(handle);
    handle.failure.catch(() => live.delete(handle));
    return handle;
  };
  const live = new Set<WorkerHandle>();
  let restarts = 0;
  const slots: Slot[] = [];
  const launch = (slot: Slot) => {
    const worker = start();
    slot.worker = worker;
    worker.then((handle) => slot.worker === worker && (slot.current = handle), () => {});
  };
  for (let i = 0; i < size; i++) {
    const slot: Slot = { worker: Promise.resolve(undefined as never), busy: 0 };
    launch(slot);
    slots.push(slot);
  }
  try {
    await Promise.all(slots.map((s) => s.worker));
  } catch (e) {
    for (const s of slots) s.worker.then((w) => w.kill(new ConvkitError('ABORTED', 'pool closed')), () => {});
    throw e;
  }

  /** Replaces a slot's worker if it is still the given (dead or aborted) one; decided synchronously
   * so that several calls failing on one worker start one replacement. */
  const replace = (slot: Slot, dead: WorkerHandle) => {
    if (slot.current !== dead || terminated) return;
    slot.current = undefined;
    restarts++;
    launch(slot);
    slot.worker.catch(() => {});
  };

  /** A piece that never ran because its worker died with another piece (or was ended): safe to send again. */
  class LostPiece extends Error {}

  /** The slot's worker; a slot whose replacement failed to start gets another one. */
  async function workerOf(slot: Slot): Promise<WorkerHandle> {
    try {
      return await slot.worker;
    } catch (e) {
      if (!terminated && slot.current === undefined) {
        restarts++;
        launch(slot);
        slot.worker.catch(() => {});
      }
      throw e instanceof ConvkitError ? e : new ConvkitError('WORKER_FAILED', `worker failed to start: ${String(e)}`);
    }
  }

  async function runPiece<T>(op: string, post: Post<T>, callOpts: PoolCallOptions, aborted: Promise<never>): Promise<T> {
    const slot = slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    slot.busy++;
    try {
      const worker = await workerOf(slot);
      // Aborted while waiting for a worker (or before a retry): nothing was sent, nothing to end.
      if (callOpts.signal?.aborted) throw new ConvkitError('ABORTED', `${op}: aborted`);
      return await sendPiece(op, post, callOpts, aborted, slot, worker);
    } finally {
      slot.busy--;
    }
  }

  async function sendPiece<T>(op: string, post: Post<T>, callOpts: PoolCallOptions, aborted: Promise<never>, slot: Slot, worker: WorkerHandle): Promise<T> {
    const token = {};
    worker.keepAlive(true);
    try {
      worker.track(token);
      const result = await Promise.race([post(worker), worker.failure, aborted]);
      if (!result.ok) {
        // Not a ConvkitError: something broke inside the worker (a wasm trap). Its state is suspect,
        // and this piece is the culprit (it is not sent again).
        if (!result.code) {
          worker.kill(new ConvkitError('WORKER_FAILED', 'worker restarted: a call failed inside it'), token);
          replace(slot, worker);
        }
        throw withOp(op, new ConvkitError(result.code ?? 'WORKER_FAILED', result.message));
      }
      return result.value;
    } catch (e) {
      // Whatever else breaks on the way (a message that cannot be cloned) still rejects as a ConvkitError.
      if (!(e instanceof ConvkitError)) throw new ConvkitError('WORKER_FAILED', `${op}: ${e instanceof Error ? e.message : String(e)}`);
      if (e.code === 'ABORTED') {
        // Wasm cannot be interrupted: an aborted call's worker is ended and replaced; the calls
        // queued on it are sent again.
        worker.kill(new ConvkitError('WORKER_FAILED', 'worker restarted: another call running on it was aborted'));
        replace(slot, worker);
        throw e;
      }
      if (e.code === 'WORKER_FAILED' && !worker.alive) {
        replace(slot, worker);
        if (worker.crashedOn !== token && !callOpts.transfer) throw new LostPiece();
      }
      throw e;
    } finally {
      worker.untrack(token);
      if (slot.busy <= 1 && worker.alive) worker.keepAlive(false);
    }
  }

  /** Sends one piece of a call: its arrays are cut when it is posted (again, on a retry).
   * Arrays cross threads only by moving (a clone copies twice), in buffers from the stash: the
   * caller's arrays are copied into them (moved as they are with `transfer: true`), the piece's
   * results come back in them, and the worker returns the inputs too. `onPosted` runs while the
   * worker computes. */
  const postPiece =
    (call: OpCall, piece: Piece, transfer: boolean | undefined, onPosted?: () => void): Post<PieceResult> =>
    (worker) => {
      const { problem, arrays } = pieceArgs(call, piece, stash.take);
      const sent = arrays.map((a, i) => (a && a === call.arrays[i] && !transfer ? copyOf(a) : a));
      const into = newResults({ ...call, problem } as OpCall, stash.take);
      const buffers = [...new Set([...sent, ...Object.values(into)].flatMap((a) => (a ? [a.buffer] : [])))];
      const reply = worker.run(call.kind, problem, sent, call.backend, Comlink.transfer(into, buffers));
      onPosted?.();
      return reply;
    };
  /** Writes one value per 4 KiB page of fresh arrays: their pages fault now, not when results are copied in. */
  const prefaulted = (arrays: ResultArrays): ResultArrays => {
    for (const a of Object.values(arrays)) for (let i = 0; i < a.length; i += 1024) a[i] = 0;
    return arrays;
  };
  const copyOf = (a: Float32Array) => {
    const copy = stash.take(a.length);
    copy.set(a);
    return copy;
  };

  /** Reads the pool's own call options; the rest go to the op's normalization. */
  function callOptions(op: string, opts: unknown): { callOpts: PoolCallOptions; rest: Record<string, unknown> } {
    if (terminated) throw new ConvkitError('UNSUPPORTED', `${op}: the pool was terminated`);
    const { signal, transfer, ...rest } = optionsObject(op, opts) as PoolCallOptions & Record<string, unknown>;
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw invalid(`${op}: signal must be an AbortSignal`);
    return { callOpts: { signal, transfer }, rest };
  }

  function checkBackend(op: string, backend: BackendName | undefined) {
    if (backend === 'wasm' && info?.backend === 'js') throw new ConvkitError('UNSUPPORTED', `${op}: backend 'wasm' is not loaded in the pool's workers`);
  }

  /** Runs `work` with an abort promise for `signal`, removing the listener when it settles. */
  async function abortable<T>(op: string, signal: AbortSignal | undefined, work: (aborted: Promise<never>) => Promise<T>): Promise<T> {
    const abortError = () => new ConvkitError('ABORTED', `${op}: aborted`);
    if (signal?.aborted) throw abortError();
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(abortError());
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    aborted.catch(() => {});
    try {
      return await work(aborted);
    } finally {
      signal?.removeEventListener('abort', onAbort!);
    }
  }

  /** Splits a validated call, runs the pieces and joins them. */
  async function runCall(call: OpCall, { signal, transfer }: PoolCallOptions): Promise<CallResult> {
    checkBackend(call.op, call.backend);
    if (signal?.aborted) throw new ConvkitError('ABORTED', `${call.op}: aborted`);
    checkMemory(call, ownLimit ?? memoryLimit());
    if (call.problem.inputShape[0] === 0) return finishCall(call, newResults(call));
    return abortable(call.op, signal, async (aborted) => {
      const pieces = splitCall(call, size, minWorkToSplit);
      // Pieces share the caller's whole arrays (a weight, or an uncut input): only a call that runs
      // as one piece may move them.
      const moveCallerBuffers = transfer === true && pieces.length === 1;
      // A fresh buffer's every page faults on its first write (~2.5 us per 4 KiB here): written
      // after the workers finish, that was most of a call's serial part. A call run whole answers
      // in the arrays its piece comes back in (from the stash), and faults their replacements
      // while its worker computes. A split call faults its answer when its first piece arrives,
      // on the core that piece's worker has left (a default pool has a worker on every core),
      // and copies each piece in as it arrives.
      const whole = pieces.length === 1;
      let answer: ResultArrays | undefined;
      const answerArrays = () => (answer ??= prefaulted(newResults(call)));
      const restock = () => {
        if (!Object.values(resultSpecs(call)).some((s) => product(s.shape) * 4 >= RESTOCK_BYTES)) return;
        try {
          stash.give(Object.values(prefaulted(newResults(call))).map((a) => a.buffer));
        } catch {
          // Out of memory: the next call allocates its own.
        }
      };
      const done = await Promise.all(
        pieces.map((piece) =>
          runPieceRetrying(call.op, postPiece(call, piece, moveCallerBuffers, whole ? restock : undefined), { signal, transfer: moveCallerBuffers }, aborted).then((d) => {
            if (!whole) placeResults(call, piece, d.results, answerArrays());
            return d;
          }),
        ),
      );
      const joined = whole ? done[0].results : answerArrays();
      if (!whole) sumResults(call, done.map((d) => d.results), joined);
      // Every buffer that came back and is not part of the answer serves later calls.
      const kept = new Set(Object.values(joined).map((a) => a.buffer));
      stash.give(done.flatMap((d) => [...d.spent, ...Object.values(d.results)].flatMap((a) => (a && !kept.has(a.buffer) ? [a.buffer] : []))));
      return finishCall(call, joined);
    });
  }

  /** An image filter: each worker filters a band of output rows (reading its rows' neighbours),
   * and the bands are stacked. */
  async function runImage(call: FilterCall, signal: AbortSignal | undefined): Promise<FilteredImage> {
    const { image, plan } = call;
    checkBackend(plan.op, plan.backend);
    checkFilterMemory(call, ownLimit ?? memoryLimit());
    return abortable(plan.op, signal, async (aborted) => {
      const pieces = imageRowPieces(call, size, minWorkToSplit);
      const post =
        (rows: [number, number]): Post<FilteredImage> =>
        (worker) => {
          const { band, firstRow } = filterBand(call, rows);
          return worker.filter(Comlink.transfer(band, [band.data.buffer]), plan, firstRow);
        };
      const bands = await Promise.all(pieces.map((rows) => runPieceRetrying(plan.op, post(rows), { signal }, aborted)));
      const data = new Uint8ClampedArray(image.width * image.height * 4);
      bands.forEach((band, i) => data.set(band.data, pieces[i][0] * image.width * 4));
      return asImageData({ data, width: image.width, height: image.height });
    });
  }

  /** A worker that dies takes the pieces queued on it: only the one it was running fails (with
   * WORKER_FAILED); the others never ran and are sent again (a few times at most). */
  async function runPieceRetrying<T>(op: string, post: Post<T>, callOpts: PoolCallOptions, aborted: Promise<never>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await runPiece(op, post, callOpts, aborted);
      } catch (e) {
        if (!(e instanceof LostPiece)) throw e;
        if (attempt === 3 || terminated) throw new ConvkitError('WORKER_FAILED', `${op}: workers kept failing while this call waited on them`);
      }
    }
  }

  /** One call: validation errors become the rejection. */
  async function one<R>(op: string, opts: unknown, makeCall: (o: Record<string, unknown>) => OpCall): Promise<R> {
    const { callOpts, rest } = callOptions(op, opts);
    return (await runCall(makeCall(rest), callOpts)) as R;
  }

  /** A composite's steps, one after the other. Later steps reuse the caller's arrays, so nothing is
   * transferred. */
  async function steps<R>(op: string, opts: unknown, make: (o: Record<string, unknown>) => Steps<R>): Promise<R> {
    const { callOpts, rest } = callOptions(op, opts);
    return runStepsAsync(make(rest), (call) => runCall(call, { signal: callOpts.signal }));
  }

  /** An image filter call: validation errors become the rejection. */
  async function filter(op: string, opts: unknown, make: (o: Record<string, unknown>) => FilterCall): Promise<FilteredImage> {
    const { callOpts, rest } = callOptions(op, opts);
    return runImage(make(rest), callOpts.signal);
  }

  const conv = (op: string, dims: number) => (x: Tensor, w: Tensor, opts?: object) => one<Tensor>(op, opts, (o) => normalizeConv(op, dims, x, w, o));
  const convBackward = (op: string, dims: number) => (x: Tensor, w: Tensor, dy: Tensor, opts?: object) =>
    one<ConvGradients>(op, opts, (o) => backwardCall(normalizeConv(op, dims, x, w, o), dy));
  const transpose = (op: string, dims: number) => (x: Tensor, w: Tensor, opts?: object) =>
    one<Tensor>(op, opts, (o) => normalizeConvTranspose(op, dims, x, w, o));
  const transposeBackward = (op: string, dims: number) => (x: Tensor, w: Tensor, dy: Tensor, opts?: object) =>
    one<ConvGradients>(op, opts, (o) => backwardCall(normalizeConvTranspose(op, dims, x, w, o), dy));
  const pooling = (op: string, kind: 'max' | 'min' | 'avg', dims: number) => (x: Tensor, opts?: object) =>
    one<Tensor | Indexed>(op, opts, (o) => normalizePool(op, kind, dims, x, o));
  const poolingBackward = (op: string, kind: 'max' | 'min' | 'avg', dims: number) => (x: Tensor, dy: Tensor, opts?: object) =>
    one<PoolGradients>(op, opts, (o) => backwardCall(normalizePool(op, kind, dims, x, o), dy));
  const globalPool = (op: string, kind: 'max' | 'avg') => (x: Tensor, opts?: object) => one<Tensor>(op, opts, (o) => normalizeGlobalPool(op, kind, x, o));
  const globalPoolBackward = (op: string, kind: 'max' | 'avg') => (x: Tensor, dy: Tensor, opts?: object) =>
    one<PoolGradients>(op, opts, (o) => backwardCall(normalizeGlobalPool(op, kind, x, o), dy));
  const avg = (dims: number) => (x: Tensor, opts?: object) => pooling(`avgPool${dims}d`, 'avg', dims)(x, opts) as Promise<Tensor>;

  const methods = {
    conv1d: conv('conv1d', 1),
    conv2d: conv('conv2d', 2),
    conv3d: conv('conv3d', 3),
    convTranspose1d: transpose('convTranspose1d', 1),
    convTranspose2d: transpose('convTranspose2d', 2),
    convTranspose3d: transpose('convTranspose3d', 3),
    maxPool1d: pooling('maxPool1d', 'max', 1),
    maxPool2d: pooling('maxPool2d', 'max', 2),
    maxPool3d: pooling('maxPool3d', 'max', 3),
    minPool1d: pooling('minPool1d', 'min', 1),
    minPool2d: pooling('minPool2d', 'min', 2),
    minPool3d: pooling('minPool3d', 'min', 3),
    avgPool1d: avg(1),
    avgPool2d: avg(2),
    avgPool3d: avg(3),
    globalAvgPool: globalPool('globalAvgPool', 'avg'),
    globalMaxPool: globalPool('globalMaxPool', 'max'),
    depthwiseConv2d: (x: Tensor, w: Tensor, opts?: object) => one<Tensor>('depthwiseConv2d', opts, (o) => depthwiseCall(x, w, o as ConvOptions)),
    pointwiseConv2d: (x: Tensor, w: Tensor, opts?: object) => one<Tensor>('pointwiseConv2d', opts, (o) => pointwiseCall(x, w, o as ConvOptions)),
    separableConv2d: (x: Tensor, dw: Tensor, pw: Tensor, opts?: object) => steps('separableConv2d', opts, (o) => separableSteps(x, dw, pw, o as SeparableConvOptions)),
    deformConv2d: (x: Tensor, offset: Tensor, w: Tensor, opts?: object) => one<Tensor>('deformConv2d', opts, (o) => normalizeDeformConv('deformConv2d', x, offset, w, o)),
    sepFilter2d: (x: Tensor, ky: Float32Array, kx: Float32Array, opts?: object) => steps('sepFilter2d', opts, (o) => sepFilterSteps(x, ky, kx, o as SepFilterOptions)),
    conv1dBackward: convBackward('conv1dBackward', 1),
    conv2dBackward: convBackward('conv2dBackward', 2),
    conv3dBackward: convBackward('conv3dBackward', 3),
    convTranspose1dBackward: transposeBackward('convTranspose1dBackward', 1),
    convTranspose2dBackward: transposeBackward('convTranspose2dBackward', 2),
    convTranspose3dBackward: transposeBackward('convTranspose3dBackward', 3),
    maxPool1dBackward: poolingBackward('maxPool1dBackward', 'max', 1),
    maxPool2dBackward: poolingBackward('maxPool2dBackward', 'max', 2),
    maxPool3dBackward: poolingBackward('maxPool3dBackward', 'max', 3),
    minPool1dBackward: poolingBackward('minPool1dBackward', 'min', 1),
    minPool2dBackward: poolingBackward('minPool2dBackward', 'min', 2),
    minPool3dBackward: poolingBackward('minPool3dBackward', 'min', 3),
    avgPool1dBackward: poolingBackward('avgPool1dBackward', 'avg', 1),
    avgPool2dBackward: poolingBackward('avgPool2dBackward', 'avg', 2),
    avgPool3dBackward: poolingBackward('avgPool3dBackward', 'avg', 3),
    globalAvgPoolBackward: globalPoolBackward('globalAvgPoolBackward', 'avg'),
    globalMaxPoolBackward: globalPoolBackward('globalMaxPoolBackward', 'max'),
    depthwiseConv2dBackward: (x: Tensor, w: Tensor, dy: Tensor, opts?: object) =>
      one<ConvGradients>('depthwiseConv2dBackward', opts, (o) => backwardCall(depthwiseCall(x, w, o as ConvOptions, 'depthwiseConv2dBackward'), dy)),
    pointwiseConv2dBackward: (x: Tensor, w: Tensor, dy: Tensor, opts?: object) =>
      one<ConvGradients>('pointwiseConv2dBackward', opts, (o) => backwardCall(pointwiseCall(x, w, o as ConvOptions, 'pointwiseConv2dBackward'), dy)),
    separableConv2dBackward: (x: Tensor, dw: Tensor, pw: Tensor, dy: Tensor, opts?: object) =>
      steps('separableConv2dBackward', opts, (o) => separableBackwardSteps(x, dw, pw, dy, o as SeparableConvOptions)),
    sepFilter2dBackward: (x: Tensor, ky: Float32Array, kx: Float32Array, dy: Tensor, opts?: object) =>
      steps('sepFilter2dBackward', opts, (o) => sepFilterBackwardSteps(x, ky, kx, dy, o as SepFilterOptions)),
    deformConv2dBackward: (x: Tensor, offset: Tensor, w: Tensor, dy: Tensor, opts?: object) =>
      one<DeformConvGradients>('deformConv2dBackward', opts, (o) => backwardCall(normalizeDeformConv('deformConv2dBackward', x, offset, w, o), dy)),
    filter2d: (image: ImageLike, kernel: KernelInput, opts?: object) => filter('filter2d', opts, (o) => imageCalls.filter2d(image, kernel, o)),
    boxBlur: (image: ImageLike, radius: number, opts?: object) => filter('boxBlur', opts, (o) => imageCalls.boxBlur(image, radius, o)),
    gaussianBlur: (image: ImageLike, sigma: number, opts?: object) => filter('gaussianBlur', opts, (o) => imageCalls.gaussianBlur(image, sigma, o)),
    sharpen: (image: ImageLike, opts?: object) => filter('sharpen', opts, (o) => imageCalls.sharpen(image, o)),
    laplacian: (image: ImageLike, opts?: object) => filter('laplacian', opts, (o) => imageCalls.laplacian(image, o)),
    sobel: (image: ImageLike, opts?: object) => filter('sobel', opts, (o) => imageCalls.sobel(image, o)),
    prewitt: (image: ImageLike, opts?: object) => filter('prewitt', opts, (o) => imageCalls.prewitt(image, o)),
    emboss: (image: ImageLike, opts?: object) => filter('emboss', opts, (o) => imageCalls.emboss(image, o)),
  };

  const pool = {
    size,
    get info() {
      return info!;
    },
    stats: (): PoolStats => ({
      workers: live.size,
      restarts,
      inFlight: slots.reduce((n, s) => n + s.busy, 0),
      listeners: [...live].reduce<number | undefined>((n, w) => (n === undefined ? undefined : w.listenerCount() === undefined ? undefined : n + w.listenerCount()!), 0),
    }),
    ...methods,
    async clearCache() {
      stash.clear();
      const workers = await Promise.allSettled(slots.map((s) => s.worker));
      await Promise.all(workers.flatMap((w) => (w.status === 'fulfilled' && w.value.alive ? [w.value.clearCache()] : [])));
    },
    async terminate() {
      terminated = true;
      stash.clear();
      const workers = await Promise.allSettled(slots.map((s) => s.worker));
      for (const w of workers) {
        if (w.status === 'fulfilled') w.value.kill(new ConvkitError('ABORTED', 'the pool was terminated'));
      }
    },
  };
  return pool;
}
