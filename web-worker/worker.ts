/** The worker entry: runs backend calls for the pool, exposed through Comlink. The same file runs as
 * a Web Worker (browsers, Deno) and as a Node worker_threads worker. */

import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { runBackend } from '../ts/api/call.js';
import { ConvkitError } from '../ts/api/errors.js';
import { importNode, isNode } from '../ts/env.js';
import type { WorkerApi } from '../ts/pool/protocol.js';
import { backendInfo, init, resolveBackend } from '../ts/runtime.js';

const api: WorkerApi = {
  async init(opts) {
    await init(opts);
    // The memory size changes with every call: a snapshot would only mislead `pool.info`.
    const { memoryBytes: _, ...info } = backendInfo();
    return info;
  },
  run(kind, problem, arrays, backend) {
    try {
      const value = runBackend(resolveBackend('worker', backend), kind, problem, arrays);
      const buffers = Object.values(value).flatMap((a) => (a ? [a.buffer] : []));
      return Comlink.transfer({ ok: true, value }, buffers);
    } catch (e) {
      return {
        ok: false,
        code: e instanceof ConvkitError ? e.code : undefined,
        message: e instanceof Error ? e.message : String(e),
      };
    }
  },
};

if (isNode) {
  const { parentPort } = await importNode<typeof import('node:worker_threads')>('node:worker_threads');
  Comlink.expose(api, nodeEndpoint(parentPort!));
} else {
  Comlink.expose(api);
}
