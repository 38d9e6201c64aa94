/** Float32 buffers that went to a worker and came back, kept for the pieces of later calls.
 * A fresh large buffer costs a page fault per 4 KiB page the first time it is written (and the
 * allocator hands large blocks back to the kernel when they are freed); a pool that sends and
 * receives a few megabytes a call spent milliseconds of each call there. Recycling the pieces'
 * buffers leaves a call one fresh allocation: its result. */
export class BufferStash {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private bytes = 0;

  /** `limit`: the most bytes kept. */
  constructor(private readonly limit: number) {}

  /** A Float32Array of `length` elements with arbitrary contents (a kept buffer, or a new one). */
  readonly take = (length: number): Float32Array => {
    const buffer = this.free.get(length * 4)?.pop();
    if (!buffer) return new Float32Array(length);
    this.bytes -= buffer.byteLength;
    return new Float32Array(buffer);
  };

  /** Keeps buffers nobody else holds any more, up to the limit. */
  give(buffers: Iterable<ArrayBufferLike>): void {
    for (const buffer of buffers) {
      if (!(buffer instanceof ArrayBuffer) || buffer.byteLength === 0 || this.bytes + buffer.byteLength > this.limit) continue;
      const list = this.free.get(buffer.byteLength) ?? [];
      if (list.includes(buffer)) continue;
      list.push(buffer);
      this.free.set(buffer.byteLength, list);
      this.bytes += buffer.byteLength;
    }
  }

  clear(): void {
    this.free.clear();
    this.bytes = 0;
  }
}
