/** The worker entry: runs backend calls for the pool, exposed through Comlink. The same file runs as
 * a Web Worker (browsers, Deno) and as a Node worker_threads worker. */

import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { execute, finishCall, runBackend } from '../ts/api/call.js';
import { runSteps } from '../ts/api/composites.js';
import { filterBandSteps, identityRows } from '../ts/api/image-filters.js';
import { ConvkitError } from '../ts/api/errors.js';
import { importNode, isNode } from '../ts/env.js';
import type { ResultArrays } from '../ts/backends/backend.js';
import type { WorkerApi, WorkerResult } from '../ts/pool/protocol.js';
import { backendInfo, clearCache, init, resolveBackend } from '../ts/runtime.js';

const api: WorkerApi = {
  async init(opts) {
    await init(opts);
    // The memory size changes with every call: a snapshot would only mislead `pool.info`.
    const { memoryBytes: _, ...info } = backendInfo();
    return info;
  },
  run(kind, problem, arrays, backend, into) {
    return tagged(
      () => ({ results: copyInto(runBackend(resolveBackend('worker', backend), kind, problem, arrays, into), into), spent: arrays }),
      ({ results, spent }) => [...new Set([...Object.values(results), ...spent].flatMap((a) => (a ? [a.buffer] : [])))],
    );
  },
  filter(band, plan, firstRow) {
    return tagged(
      () => runSteps(filterBandSteps(band, plan, identityRows(band.height), firstRow), (call) => finishCall(call, execute(resolveBackend(call.op, call.backend), call))),
      (image) => [image.data.buffer],
    );
  },
  clearCache,
};

/** The results in the caller's arrays: copied unless the backend wrote them there (a worker's own
 * arrays stay here, where its allocator reuses them). */
function copyInto(results: ResultArrays, into: ResultArrays): ResultArrays {
  for (const [name, target] of Object.entries(into) as [keyof ResultArrays, Float32Array & Int32Array][]) {
    const data = results[name];
    if (data?.length !== target.length) throw new Error(`${name}: the pool expected ${target.length} elements, the backend gave ${data?.length}`);
    if (data !== target) target.set(data);
  }
  return into;
}

/** A result tagged ok (its buffers moved to the caller) or failed with the error's code. */
function tagged<T>(work: () => T, buffers: (value: T) => ArrayBufferLike[]): WorkerResult<T> {
  try {
    const value = work();
    return Comlink.transfer({ ok: true, value }, buffers(value) as Transferable[]);
  } catch (e) {
    return {
      ok: false,
      code: e instanceof ConvkitError ? e.code : undefined,
      message: e instanceof Error ? e.message : String(e),
    };
  }
}

if (isNode) {
  const { parentPort } = await importNode<typeof import('node:worker_threads')>('node:worker_threads');
  Comlink.expose(api, nodeEndpoint(parentPort!));
} else {
  Comlink.expose(api);
}
