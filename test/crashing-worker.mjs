// A worker that starts like convkit's but dies on its first call: the pool must reject, not hang.
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { parentPort } from 'node:worker_threads';

Comlink.expose(
  {
    init: async () => ({ backend: 'js', threads: 1, version: 'crashing' }),
    run: () => process.exit(3),
  },
  nodeEndpoint(parentPort),
);
