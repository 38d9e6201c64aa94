// `npm run demo`: bundles the playground page with esbuild next to convkit's worker and wasm
// builds (from dist/, made by `npm run build`), then serves it on http://127.0.0.1:8080 (PORT to change).
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const HERE = fileURLToPath(new URL('.', import.meta.url));
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json', '.map': 'application/json' };

/** Writes the page, its bundle, the worker and the wasm files into `outDir`. */
export async function buildPlayground(outDir = join(ROOT, 'build', 'playground')) {
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: [join(HERE, 'playground.ts')],
    outfile: join(outDir, 'playground.js'),
    bundle: true,
    format: 'esm',
    target: 'es2022',
    sourcemap: true,
    logLevel: 'warning',
  });
  await copyFile(join(HERE, 'index.html'), join(outDir, 'index.html'));
  // The library finds its worker and wasm next to the bundle (new URL(..., import.meta.url)).
  for (const file of ['worker.js', 'convkit-relaxed.wasm', 'convkit-simd.wasm', 'convkit-scalar.wasm']) await copyFile(join(ROOT, 'dist', file), join(outDir, file));
  return outDir;
}

/** Serves `dir` (static files only); resolves to the server once it listens. */
export function startServer(dir, port = 0, host = '127.0.0.1') {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    try {
      const body = await readFile(join(dir, path === '/' ? 'index.html' : path));
      res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? (path === '/' ? TYPES['.html'] : 'application/octet-stream') }).end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === normalize(process.argv[1])) {
  const dir = await buildPlayground();
  const server = await startServer(dir, Number(process.env.PORT ?? 8080));
  console.log(`convkit playground: http://127.0.0.1:${server.address().port}/  (Ctrl+C to stop)`);
}
