// `npm run bench:browser [-- --quick]`: the conv suite of `npm run bench` in headless Debian
// Chromium (playwright-core), served from this checkout on 127.0.0.1 with cross-origin isolation
// (onnxruntime-web's threads need SharedArrayBuffer). Prints the same tables and writes
// bench/results/browser.json and bench/results/browser-report.html.
import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { peakBinaries } from './peak.mjs';
import { htmlReport, printTables } from './report.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };
const PAGE = '<!doctype html><meta charset="utf-8"><title>convkit bench</title><script type="module" src="/build/bench-browser/page.js"></script>';
const quick = process.argv.includes('--quick');

await build({
  entryPoints: [join(ROOT, 'bench', 'browser-page.mjs')],
  outfile: join(ROOT, 'build', 'bench-browser', 'page.js'),
  bundle: true,
  format: 'esm',
  target: 'es2022',
  external: ['wabt'], // the peak's modules are compiled in Node
  logLevel: 'warning',
});

// Static files from the checkout (dist/, bench/, node_modules/ and the page bundle), cross-origin isolated.
const server = createServer(async (req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
  const headers = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };
  try {
    const body = path === '/' ? PAGE : await readFile(join(ROOT, path));
    res.writeHead(200, { ...headers, 'content-type': path === '/' ? TYPES['.html'] : (TYPES[extname(path)] ?? 'application/octet-stream') }).end(body);
  } catch {
    res.writeHead(404, headers).end('not found');
  }
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.waitForFunction(() => typeof window.runBench === 'function');
  const binaries = (await peakBinaries()).map(({ accumulators, bytes }) => ({ accumulators, bytes: Array.from(bytes) }));
  const results = await page.evaluate((arg) => window.runBench(arg), { quick, peakBinaries: binaries });
  printTables(results);
  const dir = new URL('./results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  writeFileSync(new URL('browser.json', dir), JSON.stringify(results, null, 2));
  writeFileSync(new URL('browser-report.html', dir), htmlReport(results));
} finally {
  await browser.close();
  server.close();
}
