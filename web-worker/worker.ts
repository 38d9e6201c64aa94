/** The worker entry: runs backend calls for the pool, exposed through Comlink. The same file runs as
 * a Web Worker (browsers, Deno) and as a Node worker_threads worker. */

import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { ConvkitError } from '../ts/api/errors.js';
import { importNode, isNode } from '../ts/env.js';
import type { WorkerApi, WorkerResult } from '../ts/pool/protocol.js';
import { backendInfo, init, resolveBackend } from '../ts/runtime.js';

function capture<T>(run: () => T): WorkerResult<T> {
  try {
    return { ok: true, value: run() };
  } catch (e) {
    return {
      ok: false,
      code: e instanceof ConvkitError ? e.code : undefined,
      message: e instanceof Error ? e.message : String(e),
    };
  }
}

const api: WorkerApi = {
  async init(opts) {
    await init(opts);
    return backendInfo();
  },
  conv(problem, input, weight, bias, backend) {
    const result = capture(() => resolveBackend('pool', backend).conv(problem, input, weight, bias));
    return result.ok ? Comlink.transfer(result, [result.value.buffer]) : result;
  },
};

if (isNode) {
  const { parentPort } = await importNode<typeof import('node:worker_threads')>('node:worker_threads');
  Comlink.expose(api, nodeEndpoint(parentPort!));
} else {
  Comlink.expose(api);
}
