// Browser entry, bundled by esbuild: fetches the fixture, runs it, leaves the result on window.
import { run } from './usage.mjs';

const raw = await (await fetch('./fixture.json')).json();
const tensor = (t) => t && { data: Float32Array.from(t.data), shape: t.shape };
try {
  window.__result = await run({ ...raw, x: tensor(raw.x), weight: tensor(raw.weight), bias: tensor(raw.bias) });
} catch (e) {
  window.__result = { error: String(e && e.stack || e) };
}
