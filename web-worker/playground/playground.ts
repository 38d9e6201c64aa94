/** The playground page: load an image, pick a filter (or edit a kernel), run it in convkit's worker
 * pool and compare wasm with JS. Filtering runs in the workers; the page only draws, so it stays
 * responsive (a heartbeat measures the longest main-thread stall during each run). */

import { ConvkitError, createPool, kernels, type FilteredImage, type Pool } from '../../ts/index.js';
import { drawSample } from './sample.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const value = (id: string) => $<HTMLInputElement | HTMLSelectElement>(id).value;
const MAX_SIDE = 2048;

/** What tests and curious users can read: readiness, the last run and main-thread stalls. */
const state = {
  ready: false,
  running: false,
  runs: 0,
  lastMs: 0,
  /** Longest gap between heartbeat ticks while a run was in progress (ms). */
  maxStallMs: 0,
  status: '',
  timings: {} as Record<string, number>,
};
(globalThis as unknown as { __playground: typeof state }).__playground = state;

let pool: Pool;
let source: ImageData | undefined;
let controller: AbortController | undefined;

function setStatus(text: string, kind: 'busy' | 'error' | 'ok' = 'ok') {
  state.status = text;
  const el = $('status');
  el.className = kind === 'error' ? 'error' : '';
  el.replaceChildren();
  if (kind === 'busy') {
    const bar = document.createElement('progress');
    el.append(bar);
  }
  el.append(text);
}

function show(canvasId: string, image: ImageData | FilteredImage) {
  const canvas = $<HTMLCanvasElement>(canvasId);
  canvas.width = image.width;
  canvas.height = image.height;
  const data = image instanceof ImageData ? image : new ImageData(image.data, image.width, image.height);
  canvas.getContext('2d')!.putImageData(data, 0, 0);
}

function useImage(image: ImageData) {
  source = image;
  show('before', image);
  show('after', new ImageData(image.width, image.height));
  $('size-info').textContent = `${image.width} x ${image.height}`;
  $('time').textContent = '';
  for (const id of ['run', 'compare']) $<HTMLButtonElement>(id).disabled = !state.ready;
}

async function loadFile(file: Blob) {
  try {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
    const [w, h] = [Math.round(bitmap.width * scale), Math.round(bitmap.height * scale)];
    const canvas = new OffscreenCanvas(w, h);
    const g = canvas.getContext('2d')!;
    g.drawImage(bitmap, 0, 0, w, h);
    useImage(g.getImageData(0, 0, w, h));
    setStatus(scale < 1 ? `scaled to ${w} x ${h}` : 'image loaded');
  } catch {
    setStatus('could not read that file as an image', 'error');
  }
}

// ---- the filter the controls describe ------------------------------------------------------

type Run = (lib: Pool, image: ImageData, opts: Record<string, unknown>) => Promise<FilteredImage>;

function kernelFromGrid(): number[][] {
  const n = Number(value('size'));
  const cells = [...$('grid').querySelectorAll('input')].map((i) => Number(i.value));
  return Array.from({ length: n }, (_, r) => cells.slice(r * n, r * n + n));
}

function chosenFilter(): Run {
  switch (value('filter')) {
    case 'gaussianBlur':
      return (lib, image, opts) => lib.gaussianBlur(image, Number(value('sigma')), opts);
    case 'boxBlur':
      return (lib, image, opts) => lib.boxBlur(image, Number(value('radius')), opts);
    case 'sobel':
    case 'prewitt': {
      const name = value('filter') as 'sobel' | 'prewitt';
      return (lib, image, opts) => lib[name](image, { ...opts, direction: value('gradient') as 'x' | 'y' | 'magnitude' });
    }
    case 'emboss':
      return (lib, image, opts) => lib.emboss(image, { ...opts, direction: value('emboss') as 'top-left' });
    case 'sharpen':
      return (lib, image, opts) => lib.sharpen(image, opts);
    case 'laplacian':
      return (lib, image, opts) => lib.laplacian(image, opts);
    default:
      return (lib, image, opts) => lib.filter2d(image, kernelFromGrid(), opts);
  }
}

function options(backend = value('backend')): Record<string, unknown> {
  const delta = value('delta');
  // An empty delta keeps the filter's own default (128 for emboss, else 0).
  return { border: value('border'), channels: value('channels'), backend, ...(delta !== '' && { delta: Number(delta) }) };
}

// ---- running ------------------------------------------------------------------------------

/** Runs `work` with the busy state on: progress, elapsed time, a heartbeat for stalls, Cancel. */
async function busy<T>(label: string, work: (signal: AbortSignal) => Promise<T>): Promise<T | undefined> {
  controller = new AbortController();
  state.running = true;
  for (const id of ['run', 'compare']) $<HTMLButtonElement>(id).disabled = true;
  $<HTMLButtonElement>('cancel').disabled = false;
  const started = performance.now();
  let last = started;
  const heartbeat = setInterval(() => {
    const now = performance.now();
    state.maxStallMs = Math.max(state.maxStallMs, now - last);
    last = now;
    setStatus(`${label}… ${((now - started) / 1000).toFixed(1)} s`, 'busy');
  }, 16);
  setStatus(`${label}…`, 'busy');
  try {
    return await work(controller.signal);
  } catch (e) {
    const aborted = e instanceof ConvkitError && e.code === 'ABORTED';
    setStatus(aborted ? 'cancelled' : e instanceof Error ? e.message : String(e), aborted ? 'ok' : 'error');
    return undefined;
  } finally {
    clearInterval(heartbeat);
    state.running = false;
    controller = undefined;
    $<HTMLButtonElement>('cancel').disabled = true;
    for (const id of ['run', 'compare']) $<HTMLButtonElement>(id).disabled = !source;
  }
}

async function run() {
  if (!source) return;
  const image = source;
  const filter = chosenFilter();
  const opts = options();
  const done = await busy('filtering', async (signal) => {
    const t0 = performance.now();
    const result = await filter(pool, image, { ...opts, signal });
    return { result, ms: performance.now() - t0 };
  });
  if (!done) return;
  show('after', done.result);
  state.runs++;
  state.lastMs = done.ms;
  $('time').textContent = `${done.ms.toFixed(1)} ms (${opts.backend}, ${pool.size} workers)`;
  setStatus(`done in ${done.ms.toFixed(1)} ms`);
}

/** The same filter on each backend: one warm-up, then the median of three. */
async function compare() {
  if (!source) return;
  const image = source;
  const filter = chosenFilter();
  const backends = pool.info.backend === 'js' ? ['js'] : ['wasm', 'js'];
  const timings = await busy('timing wasm and JS', async (signal) => {
    const out: Record<string, number> = {};
    for (const backend of backends) {
      const times: number[] = [];
      for (let i = 0; i < 4; i++) {
        const t0 = performance.now();
        await filter(pool, image, { ...options(backend), signal });
        if (i > 0) times.push(performance.now() - t0);
      }
      out[backend] = times.sort((a, b) => a - b)[1];
    }
    return out;
  });
  if (!timings) return;
  state.timings = timings;
  const slowest = Math.max(...Object.values(timings));
  const box = $('timings');
  box.hidden = false;
  box.replaceChildren(Object.assign(document.createElement('strong'), { textContent: `${value('filter')} on ${image.width} x ${image.height}, ${pool.size} workers (median of 3)` }));
  for (const [backend, ms] of Object.entries(timings)) {
    const bar = document.createElement('div');
    bar.style.width = `${(100 * ms) / slowest}%`;
    const track = document.createElement('span');
    track.append(bar);
    const row = Object.assign(document.createElement('div'), { className: `bar ${backend}` });
    row.append(backend === 'wasm' ? `wasm (${pool.info.backend})` : 'JavaScript', track, `${ms.toFixed(1)} ms`);
    box.append(row);
  }
  if (timings.wasm) {
    const speedup = timings.js / timings.wasm;
    box.append(speedup >= 1 ? `wasm is ${speedup.toFixed(1)}x faster` : `wasm is ${(1 / speedup).toFixed(1)}x slower`);
  }
  setStatus('timing done');
}

// ---- controls ---------------------------------------------------------------------------------

function buildGrid(rows?: readonly (readonly number[])[]) {
  const n = Number(value('size'));
  const grid = $('grid');
  grid.style.gridTemplateColumns = `repeat(${n}, 1fr)`;
  grid.replaceChildren();
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      const cell = Object.assign(document.createElement('input'), { type: 'text', value: String(rows?.[r]?.[c] ?? (r === (n >> 1) && c === (n >> 1) ? 1 : 0)) });
      cell.setAttribute('aria-label', `kernel row ${r + 1} column ${c + 1}`);
      grid.append(cell);
    }
  }
}

function showFilterControls() {
  const filter = value('filter');
  const visible: Record<string, boolean> = {
    'sigma-row': filter === 'gaussianBlur',
    'radius-row': filter === 'boxBlur',
    'gradient-row': filter === 'sobel' || filter === 'prewitt',
    'emboss-row': filter === 'emboss',
    'custom-row': filter === 'filter2d',
  };
  for (const [id, on] of Object.entries(visible)) $(id).hidden = !on;
}

function wireControls() {
  $('filter').addEventListener('change', showFilterControls);
  $('size').addEventListener('change', () => buildGrid());
  $('preset').addEventListener('change', () => {
    const name = value('preset');
    if (!name) return;
    const rows = name === 'box' ? kernels.box(1) : (kernels[name as 'sharpen'] as readonly (readonly number[])[]);
    $<HTMLSelectElement>('size').value = String(rows.length);
    buildGrid(rows.map((r) => r.map((v) => Math.round(v * 1000) / 1000)));
  });
  $('sample').addEventListener('click', () => {
    useImage(drawSample());
    setStatus('sample loaded');
  });
  $<HTMLInputElement>('file').addEventListener('change', (e) => {
    const file = (e.target as HTMLInputElement).files?.[0];
    if (file) void loadFile(file);
  });
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const file = e.dataTransfer?.files[0];
    if (file) void loadFile(file);
  });
  $('run').addEventListener('click', () => void run());
  $('compare').addEventListener('click', () => void compare());
  $('cancel').addEventListener('click', () => controller?.abort());
}

async function start() {
  wireControls();
  buildGrid(kernels.sharpen);
  showFilterControls();
  setStatus('starting workers…', 'busy');
  try {
    pool = await createPool({ workers: Math.min(4, navigator.hardwareConcurrency || 2) });
  } catch (e) {
    setStatus(`could not start the workers: ${e instanceof Error ? e.message : String(e)}`, 'error');
    return;
  }
  if (pool.info.backend === 'js') $<HTMLOptionElement>('backend').querySelector('option[value=wasm]')!.remove();
  state.ready = true;
  setStatus(`ready: ${pool.size} workers on ${pool.info.backend}`);
  if (source) useImage(source);
}

void start();
