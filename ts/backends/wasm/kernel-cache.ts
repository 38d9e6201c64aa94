/** Prepared convolution kernels kept in wasm memory and reused by later calls with the same weight
 * and the same problem apart from the batch, so a model's layers pack (or Winograd/FFT-transform)
 * their weights once. A weight is recognized by its contents, compared bit for bit with a copy
 * taken when its kernel was prepared: the same array, an array edited in place (prepared again,
 * never answered from stale panels), or a fresh copy with equal values (as each pool worker
 * receives) all come out right. The comparison stops at the first differing value and costs far
 * less than the convolution. */

export interface CachedKernel {
  free(): void;
  retainedBytes(): number;
}

interface Entry<K> {
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

  /** The kernel for `weight` and `signature`; `prepare` makes one when none matches. */
  get(weight: Float32Array, signature: string, prepare: () => K): K {
    const i = this.entries.findIndex((e) => e.signature === signature && sameBits(e.weights, weight));
    if (i >= 0) {
      const [entry] = this.entries.splice(i, 1);
      this.entries.push(entry);
      return entry.kernel;
    }
    const kernel = prepare();
    this.entries.push({ signature, weights: weight.slice(), kernel });
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

  /** Frees the least recently used kernels beyond the bounds; the newest always stays. */
  private trim(): void {
    let bytes = this.entries.reduce((sum, e) => sum + entryBytes(e), 0);
    while (this.entries.length > 1 && (this.entries.length > this.maxEntries || bytes > this.maxBytes)) {
      const oldest = this.entries.shift()!;
      bytes -= entryBytes(oldest);
      oldest.kernel.free();
    }
  }
}

function entryBytes(e: Entry<CachedKernel>): number {
  return e.kernel.retainedBytes() + e.weights.byteLength;
}

/** Bitwise equality (a NaN weight equals itself; -0 and 0 differ, as their products may). Every
 * call compares its whole weight (S2's is 1.2 MB), so pairs of words are compared as float64, four
 * per branch, where both arrays are 8-byte aligned. Equal float64s are equal bits unless they are
 * zeros (0 and -0 compare equal) and NaNs never compare equal, so a block with a zero or NaN product,
 * or any unequal pair, is compared word by word. */
export function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Int32Array(a.buffer, a.byteOffset, a.length);
  const y = new Int32Array(b.buffer, b.byteOffset, b.length);
  const sameWords = (from: number, to: number) => {
    for (let i = from; i < to; i++) if (x[i] !== y[i]) return false;
    return true;
  };
  let done = 0;
  if (a.byteOffset % 8 === 0 && b.byteOffset % 8 === 0) {
    const p = new Float64Array(a.buffer, a.byteOffset, a.length >> 1);
    const q = new Float64Array(b.buffer, b.byteOffset, b.length >> 1);
    const whole = p.length - (p.length % 4);
    for (let i = 0; i < whole; i += 4) {
      const p0 = p[i], p1 = p[i + 1], p2 = p[i + 2], p3 = p[i + 3];
      if (p0 !== q[i] || p1 !== q[i + 1] || p2 !== q[i + 2] || p3 !== q[i + 3] || !(p0 * p1 * p2 * p3)) {
        if (!sameWords(2 * i, 2 * i + 8)) return false;
      }
    }
    done = 2 * whole;
  }
  return sameWords(done, x.length);
}
