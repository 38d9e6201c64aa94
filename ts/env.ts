/** Runtime detection and the few host facilities that differ between Node, Deno and browsers. */

interface NodeProcess {
  versions?: { node?: string };
}

export const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== 'undefined';
export const isNode =
  !isDeno && typeof (globalThis as { process?: NodeProcess }).process?.versions?.node === 'string';

/** Imports a Node built-in without letting browser bundlers try to resolve it. */
export function importNode<T>(specifier: string): Promise<T> {
  return import(/* @vite-ignore */ specifier) as Promise<T>;
}

/** Reads a file: Node's fetch cannot read file: URLs, so Node reads from disk; others fetch. */
export async function readBytes(url: URL): Promise<Uint8Array<ArrayBuffer>> {
  if (isNode && url.protocol === 'file:') {
    const fs = await importNode<{ readFile(p: URL): Promise<Uint8Array<ArrayBuffer>> }>('node:fs/promises');
    return fs.readFile(url);
  }
  const response = await fetch(url);
  if (!response.ok) throw new Error(`fetching ${url.href} failed: ${response.status} ${response.statusText}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** Logical cores, for the default pool size. */
export async function coreCount(): Promise<number> {
  if (isNode) {
    const os = await importNode<{ availableParallelism?: () => number; cpus(): unknown[] }>('node:os');
    return os.availableParallelism?.() ?? os.cpus().length;
  }
  return (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 2;
}
