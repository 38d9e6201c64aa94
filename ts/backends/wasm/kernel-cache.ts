/** Prepared convolution kernels kept in wasm memory and reused by later calls with the same weight
 * and the same problem apart from the batch, so a model's layers pack (or Winograd/FFT-transform)
 * their weights once. The weight is found by identity: the same Float32Array, or the same
 * `weightKey` a pool gives the copies it posts to its workers. A hit also compares the weight's
 * contents with a copy taken when the kernel was prepared, so a weight edited in place is prepared
 * again rather than answered from stale panels; that pass costs far less than the convolution. */

export interface CachedKernel {
  free(): void;
  retainedBytes(): number;
}

interface Entry<K> {
  owner: WeakRef<Float32Array> | string;
  signature: string;
  weights: Float32Array;
  kernel: K;
}

/** Default bounds: a few dozen layers, or this many bytes of prepared weights and scratch. */
export const CACHE_ENTRIES = 32;
export const CACHE_BYTES = 128 << 20;

export class KernelCache<K extends CachedKernel> {
  /** Least recently used first. */
  private entries: Entry<K>[] = [];

  constructor(
    private readonly maxEntries = CACHE_ENTRIES,
    private readonly maxBytes = CACHE_BYTES,
  ) {}

  /** The kernel for `weight` (found by `owner`: a string key, or the array itself) and `signature`;
   * `prepare` makes one when there is none or the weight changed. */
  get(weight: Float32Array, owner: string | undefined, signature: string, prepare: () => K): K {
    const key = owner ?? weight;
    const i = this.entries.findIndex((e) => e.signature === signature && ownerOf(e) === key);
    if (i >= 0) {
      const [entry] = this.entries.splice(i, 1);
      if (sameBits(entry.weights, weight)) {
        this.entries.push(entry);
        return entry.kernel;
      }
      entry.kernel.free();
    }
    const kernel = prepare();
    this.entries.push({ owner: owner ?? new WeakRef(weight), signature, weights: weight.slice(), kernel });
    this.trim();
    return kernel;
  }

  get size(): number {
    return this.entries.length;
  }

  /** Frees every kernel. */
  clear(): void {
    for (const e of this.entries) e.kernel.free();
    this.entries = [];
  }

  /** Drops entries whose weight was garbage-collected, then the least recently used ones beyond the
   * bounds; the newest entry always stays. */
  private trim(): void {
    const live = this.entries.filter((e) => ownerOf(e) !== undefined);
    for (const e of this.entries) if (!live.includes(e)) e.kernel.free();
    let bytes = live.reduce((sum, e) => sum + entryBytes(e), 0);
    while (live.length > 1 && (live.length > this.maxEntries || bytes > this.maxBytes)) {
      const oldest = live.shift()!;
      bytes -= entryBytes(oldest);
      oldest.kernel.free();
    }
    this.entries = live;
  }
}

function ownerOf(e: Entry<unknown>): Float32Array | string | undefined {
  return typeof e.owner === 'string' ? e.owner : e.owner.deref();
}

function entryBytes(e: Entry<CachedKernel>): number {
  return e.kernel.retainedBytes() + e.weights.byteLength;
}

/** Bitwise equality (a NaN weight equals itself; -0 and 0 differ, as their products may). */
function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Int32Array(a.buffer, a.byteOffset, a.length);
  const y = new Int32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
