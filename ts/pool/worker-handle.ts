/** One worker thread behind Comlink, on Node (worker_threads) or the web platform (Web Workers,
 * Deno). `failure` rejects with WORKER_FAILED when the thread dies, so pending calls never hang. */

import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { ConvkitError } from '../api/errors.js';
import { importNode, isNode } from '../env.js';
import type { WorkerApi } from './protocol.js';

interface NodeWorker {
  on(event: 'error', cb: (e: Error) => void): void;
  on(event: 'exit', cb: (code: number) => void): void;
  terminate(): Promise<number>;
  ref(): void;
  unref(): void;
}

export class WorkerHandle {
  readonly failure: Promise<never>;
  private fail!: (e: ConvkitError) => void;
  private stopped = false;

  private constructor(
    readonly remote: Comlink.Remote<WorkerApi>,
    private readonly stop: () => void,
    /** Node only: lets an idle pool not keep the process alive. */
    readonly keepAlive: (on: boolean) => void,
  ) {
    this.failure = new Promise<never>((_, reject) => (this.fail = reject));
    this.failure.catch(() => {}); // observed by calls that race against it
  }

  static async spawn(url: URL): Promise<WorkerHandle> {
    let handle: WorkerHandle;
    const died = (why: string) => {
      if (!handle.stopped) handle.fail(new ConvkitError('WORKER_FAILED', `worker failed: ${why}`));
      handle.stopped = true;
    };
    if (isNode) {
      const { Worker } = await importNode<{ Worker: new (url: URL) => NodeWorker }>('node:worker_threads');
      const worker = new Worker(url);
      handle = new WorkerHandle(
        Comlink.wrap<WorkerApi>(nodeEndpoint(worker as never)),
        () => void worker.terminate(),
        (on) => (on ? worker.ref() : worker.unref()),
      );
      worker.on('error', (e) => died(e.message));
      worker.on('exit', (code) => died(`exited with code ${code}`));
    } else {
      const worker = new Worker(url, { type: 'module' });
      handle = new WorkerHandle(Comlink.wrap<WorkerApi>(worker), () => worker.terminate(), () => {});
      worker.addEventListener('error', (e) => {
        e.preventDefault();
        died(e.message || 'uncaught error');
      });
      worker.addEventListener('messageerror', () => died('a message could not be deserialized'));
    }
    return handle;
  }

  get alive(): boolean {
    return !this.stopped;
  }

  /** Ends the thread; pending calls reject with `reason`. */
  kill(reason: ConvkitError): void {
    if (!this.stopped) this.fail(reason);
    this.stopped = true;
    this.stop();
  }
}
