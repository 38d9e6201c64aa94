// Bundles the library, the worker and the command line as ESM with esbuild and places the wasm binaries beside them.
// esbuild leaves `new URL('./x.wasm', import.meta.url)` alone, so the .wasm files are copied to
// the names the loader asks for (ts/backends/wasm/index.ts, WASM_FILES).
import { build } from 'esbuild';
import { chmod, copyFile, mkdir, rm } from 'node:fs/promises';

await rm('dist', { recursive: true, force: true });
await mkdir('dist', { recursive: true });
await build({
  entryPoints: { index: 'ts/index.ts', worker: 'web-worker/worker.ts' },
  outdir: 'dist',
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  mainFields: ['module', 'main'],
  target: 'es2022',
  sourcemap: true,
  logLevel: 'warning',
});
// The command line (`convkit filter ...`), for Node: the library and fast-png bundled in.
await build({
  entryPoints: { cli: 'ts/cli/main.ts' },
  outdir: 'dist',
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  banner: { js: '#!/usr/bin/env node' },
  logLevel: 'warning',
});
await chmod('dist/cli.js', 0o755);
await copyFile('build/wasm/relaxed/convkit_wasm_bg.wasm', 'dist/convkit-relaxed.wasm');
await copyFile('build/wasm/simd/convkit_wasm_bg.wasm', 'dist/convkit-simd.wasm');
await copyFile('build/wasm/scalar/convkit_wasm_bg.wasm', 'dist/convkit-scalar.wasm');
