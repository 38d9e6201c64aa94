// Node / Deno entry: reads a fixture (JSON with plain arrays) and prints the results as JSON.
import { run } from './usage.mjs';

const path = new URL('./fixture.json', import.meta.url);
const text = globalThis.Deno ? await Deno.readTextFile(path) : (await import('node:fs')).readFileSync(path, 'utf8');
const raw = JSON.parse(text);
const tensor = (t) => t && { data: Float32Array.from(t.data), shape: t.shape };
const result = await run({ ...raw, x: tensor(raw.x), weight: tensor(raw.weight), bias: tensor(raw.bias) });
console.log(JSON.stringify(result));
