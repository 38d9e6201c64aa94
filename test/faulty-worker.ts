// A convkit worker (JS backend) that dies in the middle of any call whose input starts with
// POISON_VALUE, taking whatever else is queued on it. test/robustness.test.ts bundles it with esbuild.
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { parentPort } from 'node:worker_threads';
import { runBackend } from '../ts/api/call.js';
import { jsBackend } from '../ts/backends/js/index.js';
import type { WorkerApi } from '../ts/pool/protocol.js';

const POISON_VALUE = 12345;

const api: WorkerApi = {
  init: async () => ({ backend: 'js', threads: 1, version: 'faulty', relaxedSimd: false }),
  run(kind, problem, arrays) {
    if (arrays[0]?.[0] === POISON_VALUE) process.exit(9);
    return { ok: true, value: { results: runBackend(jsBackend, kind, problem, arrays), spent: [] } };
  },
};
Comlink.expose(api, nodeEndpoint(parentPort!));
