/** Which backend runs a call: `init()` loads wasm once (relaxed SIMD, else SIMD, else scalar, else
 * JS) and later calls resolve `backend` options against what it loaded. */

import { invalid, unsupported } from './api/errors.js';
import { setMemoryLimit } from './api/memory.js';
import type { BackendName } from './api/conv-options.js';
import type { Backend, BackendKind } from './backends/backend.js';
import { jsBackend } from './backends/js/index.js';
import { WASM_FILES, createWasmBackend, relaxedSimdSupported, simdSupported, type WasmBuild } from './backends/wasm/index.js';
import { readBytes } from './env.js';

export const VERSION = '0.1.0';

export interface InitOptions {
  /** Where the `.wasm` files are (a directory URL). Default: next to this module. */
  wasmBase?: string | URL;
  /** `false` loads the scalar build even where SIMD works (to compare them). Default: detect. */
  simd?: boolean;
  /** `false` loads the SIMD128 build even where relaxed SIMD (fused multiply-add) validates. Default:
   * detect. */
  relaxed?: boolean;
  /** `false` skips wasm entirely and runs everything on the JS backend. Default: true. */
  wasm?: boolean;
  /** Calls that would need more working memory than this many bytes fail with OUT_OF_MEMORY
   * before allocating. Default 2 GiB. Unlike the other options it applies on every `init()`. */
  memoryLimit?: number;
}

export interface BackendInfo {
  backend: BackendKind;
  threads: number;
  version: string;
  /** True when the loaded wasm build multiplies and adds with relaxed SIMD (`backend` is then
   * 'wasm-simd'). */
  relaxedSimd: boolean;
  /** Wasm backends: the current size of the wasm linear memory in bytes. */
  memoryBytes?: number;
}

let wasmBackend: Backend | undefined;
let wasmBuild: WasmBuild | undefined;
let loading: Promise<void> | undefined;
let initError: unknown;

function defaultWasmBase(): URL {
  return new URL('./', import.meta.url);
}

/** `wasm`, `simd` and `relaxed` are true, false or absent: anything else is a ConvkitError naming
 * the option (a truthy string must not silently count as "not false"). */
export function checkBuildFlags(op: string, opts: Pick<InitOptions, 'wasm' | 'simd' | 'relaxed'>): void {
  for (const name of ['wasm', 'simd', 'relaxed'] as const) {
    const value = opts[name];
    if (value !== undefined && typeof value !== 'boolean') throw invalid(`${op}: ${name} must be true or false, got ${JSON.stringify(value)}`);
  }
}

/** Loads the wasm module once; later calls are no-ops (except for `memoryLimit`). Falls back to JS
 * if wasm cannot load. */
export function init(opts: InitOptions = {}): Promise<void> {
  try {
    checkBuildFlags('init', opts);
  } catch (e) {
    return Promise.reject(e);
  }
  if (opts.memoryLimit !== undefined) {
    try {
      setMemoryLimit(opts.memoryLimit);
    } catch (e) {
      return Promise.reject(e);
    }
  }
  loading ??= (async () => {
    if (opts.wasm === false || typeof WebAssembly !== 'object') return;
    const base = new URL(opts.wasmBase ?? defaultWasmBase(), defaultWasmBase());
    for (const build of candidateBuilds(opts)) {
      try {
        const bytes = await readBytes(new URL(WASM_FILES[build], base));
        wasmBackend = await createWasmBackend(build, bytes);
        wasmBuild = build;
        return;
      } catch (e) {
        initError = e;
      }
    }
  })();
  return loading;
}

/** The wasm builds to try, best first: each later one is the fallback if the one before fails. */
function candidateBuilds(opts: InitOptions): WasmBuild[] {
  if (opts.simd === false || !simdSupported()) return ['scalar'];
  if (opts.relaxed === false || !relaxedSimdSupported()) return ['simd', 'scalar'];
  return ['relaxed', 'simd', 'scalar'];
}

/** The wasm build `init()` loaded, if any (the pool has its workers load the same one). */
export function loadedWasmBuild(): WasmBuild | undefined {
  return wasmBuild;
}

export function backendInfo(): BackendInfo {
  const backend = wasmBackend ?? jsBackend;
  return { backend: backend.kind, threads: 1, version: VERSION, relaxedSimd: wasmBuild === 'relaxed', ...(backend.memoryBytes && { memoryBytes: backend.memoryBytes() }) };
}

/** Frees the prepared convolution kernels (packed or transformed weights) the wasm backend keeps for
 * calls that reuse a weight. The cache is bounded on its own; this returns its memory at once. */
export function clearCache(): void {
  wasmBackend?.clearCache?.();
}

/** The backend for a call: the one asked for, or what `init()` picked. */
export function resolveBackend(op: string, requested: BackendName | undefined): Backend {
  if (requested === 'js') return jsBackend;
  if (wasmBackend) return wasmBackend;
  if (requested === 'wasm') {
    const why = initError instanceof Error ? ` (loading failed: ${initError.message})` : ' (call `await init()` first)';
    throw unsupported(`${op}: backend 'wasm' is not loaded${why}`);
  }
  return jsBackend;
}
