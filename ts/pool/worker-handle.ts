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
  listenerCount(event: string): number;
  terminate(): Promise<number>;
  ref(): void;
  unref(): void;
}

export class WorkerHandle {
  readonly failure: Promise<never>;
  /** The worker's methods, looked up once: each Comlink property access makes a new proxy. */
  readonly init: Comlink.Remote<WorkerApi>['init'];
  readonly run: Comlink.Remote<WorkerApi>['run'];
  readonly filter: Comlink.Remote<WorkerApi>['filter'];
  readonly clearCache: Comlink.Remote<WorkerApi>['clearCache'];
  /** The piece the thread was running when it crashed: the oldest one sent and not settled
   * (a worker runs calls in the order they arrive). Undefined when we ended the thread. */
  crashedOn: object | undefined;
  private readonly sent: object[] = [];
  private fail!: (e: ConvkitError) => void;
  private stopped = false;

  private constructor(
    remote: Comlink.Remote<WorkerApi>,
    private readonly stop: () => void,
    /** Node only: lets an idle pool not keep the process alive. */
    readonly keepAlive: (on: boolean) => void,
    /** Node only: listeners on the worker (message, error, exit), to check that none leak. */
    readonly listenerCount: () => number | undefined,
  ) {
    this.init = remote.init;
    this.run = remote.run;
    this.filter = remote.filter;
    this.clearCache = remote.clearCache;
    this.failure = new Promise<never>((_, reject) => (this.fail = reject));
    this.failure.catch(() => {}); // observed by calls that race against it
  }

  static async spawn(url: URL): Promise<WorkerHandle> {
    let handle: WorkerHandle;
    const died = (why: string) => {
      if (handle.stopped) return;
      handle.stopped = true;
      // Node delivers the replies a worker sent before it exited in the same task as the exit
      // event, before their promises settle: blaming the oldest unsettled piece now could name one
      // that was answered. A task later, only the pieces it never answered are left.
      setTimeout(() => {
        handle.crashedOn = handle.sent[0];
        handle.fail(new ConvkitError('WORKER_FAILED', `worker failed: ${why}`));
      }, 0);
    };
    if (isNode) {
      const { Worker } = await importNode<{ Worker: new (url: URL) => NodeWorker }>('node:worker_threads');
      const worker = new Worker(url);
      handle = new WorkerHandle(
        Comlink.wrap<WorkerApi>(nodeEndpoint(worker as never)),
        () => void worker.terminate(),
        (on) => (on ? worker.ref() : worker.unref()),
        () => ['message', 'error', 'exit'].reduce((n, event) => n + worker.listenerCount(event), 0),
      );
      worker.on('error', (e) => died(e.message));
      worker.on('exit', (code) => died(`exited with code ${code}`));
    } else {
      const worker = new Worker(url, { type: 'module' });
      handle = new WorkerHandle(Comlink.wrap<WorkerApi>(worker), () => worker.terminate(), () => {}, () => undefined);
      worker.addEventListener('error', (e) => {
        e.preventDefault();
        died(e.message || 'uncaught error');
      });
      worker.addEventListener('messageerror', () => died('a message could not be deserialized'));
    }
    return handle;
  }

  /** Records a piece as sent (before posting it) and, later, as settled. */
  track(piece: object): void {
    this.sent.push(piece);
  }
  untrack(piece: object): void {
    const at = this.sent.indexOf(piece);
    if (at >= 0) this.sent.splice(at, 1);
  }

  get alive(): boolean {
    return !this.stopped;
  }

  /** Ends the thread; pending calls reject with `reason`. `culprit`: the piece that broke it (the
   * others are sent again). */
  kill(reason: ConvkitError, culprit?: object): void {
    if (!this.stopped) {
      this.crashedOn = culprit;
      this.fail(reason);
    }
    this.stopped = true;
    this.stop();
  }
}
