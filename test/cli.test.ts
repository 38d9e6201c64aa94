// The command line: `convkit filter in.png out.png <filter> [options]` writes the PNG the library
// makes for the same call, reads every PNG colour type, and fails clearly (exit 1 for files, 2 for
// usage) on missing files, unreadable images and bad options.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decode, encode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConvkit, type Convkit } from './helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist', 'cli.js');
let dir: string;
let ck: Convkit;

function convkitCli(args: string[], command = process.execPath, prefix = [CLI]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, [...prefix, ...args], { cwd: dir, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

// A 40x30 RGBA image: colour gradients, a hard-edged block and partial transparency.
const W = 40;
const H = 30;
const rgba = new Uint8Array(W * H * 4);
for (let y = 0; y < H; y++) {
  for (let x = 0; x < W; x++) {
    const p = (y * W + x) * 4;
    const inside = x > 10 && x < 28 && y > 8 && y < 20;
    rgba.set([inside ? 250 : x * 6, inside ? 30 : y * 8, (x * y) % 256, 255 - x * 3], p);
  }
}
const image = { data: new Uint8ClampedArray(rgba), width: W, height: H };
const outputOf = (name: string) => decode(readFileSync(join(dir, name)));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'convkit-cli-'));
  writeFileSync(join(dir, 'in.png'), encode({ width: W, height: H, data: rgba, channels: 4, depth: 8 }));
  ck = await loadConvkit('wasm-simd');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writes what the library computes', () => {
  const runs: [string[], (ck: Convkit) => { data: Uint8ClampedArray }][] = [
    [['--gaussian', '2', '--border', 'reflect'], (ck) => ck.gaussianBlur(image, 2, { border: 'reflect' })],
    [['--box=3', '--channels', 'rgba'], (ck) => ck.boxBlur(image, 3, { channels: 'rgba' })],
    [['--sharpen', '--border', 'circular'], (ck) => ck.sharpen(image, { border: 'circular' })],
    [['--laplacian', '--delta', '128'], (ck) => ck.laplacian(image, { delta: 128 })],
    [['--sobel'], (ck) => ck.sobel(image)],
    [['--sobel', 'y', '--border', 'zeros'], (ck) => ck.sobel(image, { direction: 'y', border: 'zeros' })],
    [['--prewitt=x'], (ck) => ck.prewitt(image, { direction: 'x' })],
    [['--emboss', 'bottom-right', '--workers', '2'], (ck) => ck.emboss(image, { direction: 'bottom-right' })],
    [['--kernel', '[[0,1,2],[3,4,5]]', '--flip', '--border', 'symmetric', '--backend', 'js'], (ck) => ck.filter2d(image, [[0, 1, 2], [3, 4, 5]], { flip: true, border: 'symmetric' })],
  ];
  it.each(runs.map(([args, want]) => [args.join(' '), args, want] as const))('convkit filter in.png out.png %s', async (_, args, want) => {
    const { code, stderr } = await convkitCli(['filter', 'in.png', 'out.png', ...args]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const out = outputOf('out.png');
    expect([out.width, out.height, out.channels, out.depth]).toEqual([W, H, 4, 8]);
    expect(Buffer.from(out.data as Uint8Array).equals(Buffer.from(want(ck).data))).toBe(true);
  });
});

describe('reads every PNG colour type as RGBA', () => {
  const grey16 = Uint16Array.from({ length: W * H }, (_, i) => (i * 97) % 65536);
  const oneBit = new Uint8Array(Math.ceil(W / 8) * H).map((_, i) => (i * 37) & 0xff);
  // Translucent entries first: fast-png 8's encoder drops opaque entries from tRNS without
  // keeping positions, so a palette written the other way round would not round-trip.
  const palette = [
    [0, 0, 255, 0],
    [0, 255, 0, 128],
    [255, 0, 0, 255],
  ];
  const indices = Uint8Array.from({ length: W * H }, (_, i) => i % 3);
  const cases: [string, Parameters<typeof encode>[0], (p: number) => number[]][] = [
    ['16-bit grey', { width: W, height: H, data: grey16, channels: 1, depth: 16 }, (p) => Array(3).fill(Math.round((grey16[p] * 255) / 65535)).concat(255)],
    [
      '1-bit grey',
      { width: W, height: H, data: oneBit, channels: 1, depth: 1 },
      (p) => {
        const [x, y] = [p % W, Math.floor(p / W)];
        const bit = (oneBit[y * Math.ceil(W / 8) + (x >> 3)] >> (7 - (x & 7))) & 1;
        return [bit * 255, bit * 255, bit * 255, 255];
      },
    ],
    ['RGB', { width: W, height: H, data: rgba.filter((_, i) => i % 4 !== 3), channels: 3, depth: 8 }, (p) => [...rgba.slice(p * 4, p * 4 + 3), 255]],
    ['palette with alpha', { width: W, height: H, data: indices, channels: 1, depth: 8, palette }, (p) => palette[indices[p]]],
  ];
  it.each(cases)('%s', async (_, png, pixel) => {
    writeFileSync(join(dir, 'typed.png'), encode(png));
    // The identity kernel writes the decoded image back unchanged (alpha filtered too).
    const { code, stderr } = await convkitCli(['filter', 'typed.png', 'typed-out.png', '--kernel', '[[1]]', '--channels', 'rgba']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const out = outputOf('typed-out.png').data;
    for (let p = 0; p < W * H; p++) expect(Array.from(out.slice(p * 4, p * 4 + 4)), `pixel ${p}`).toEqual(pixel(p));
  });
});

describe('fails clearly', () => {
  beforeAll(() => writeFileSync(join(dir, 'not-a.png'), 'GIF89a, not a PNG at all'));
  const cases: [string, string[], number, string][] = [
    ['a missing input file', ['filter', 'missing.png', 'out.png', '--sharpen'], 1, "cannot read 'missing.png': no such file or directory"],
    ['a file that is not a PNG', ['filter', 'not-a.png', 'out.png', '--sharpen'], 1, "'not-a.png' is not a readable PNG image"],
    ['an output it cannot write', ['filter', 'in.png', 'no/such/dir/out.png', '--sharpen'], 1, "cannot write 'no/such/dir/out.png'"],
    ['no filter', ['filter', 'in.png', 'out.png'], 2, 'choose a filter'],
    ['two filters', ['filter', 'in.png', 'out.png', '--sharpen', '--box', '2'], 2, 'choose one filter, got --sharpen and --box'],
    ['an unknown option', ['filter', 'in.png', 'out.png', '--blur', '2'], 2, "unknown option '--blur'"],
    ['a missing number', ['filter', 'in.png', 'out.png', '--gaussian'], 2, '--gaussian needs a number, got nothing'],
    ['a non-number', ['filter', 'in.png', 'out.png', '--gaussian', 'wide'], 2, "--gaussian needs a number, got 'wide'"],
    ['a negative sigma', ['filter', 'in.png', 'out.png', '--gaussian', '-1'], 2, 'gaussianBlur: sigma must be a positive number'],
    ['a bad border', ['filter', 'in.png', 'out.png', '--sharpen', '--border', 'mirror'], 2, "sharpen: border must be one of 'zeros'"],
    ['a kernel that is not JSON', ['filter', 'in.png', 'out.png', '--kernel', '[[1,2'], 2, '--kernel needs JSON rows of numbers'],
    ['a ragged kernel', ['filter', 'in.png', 'out.png', '--kernel', '[[1,2],[3]]'], 2, 'filter2d: kernel must be non-empty rows of numbers'],
    ['a bad direction', ['filter', 'in.png', 'out.png', '--sobel=z'], 2, '--sobel takes one of x, y, magnitude'],
    ['one file', ['filter', 'in.png', '--sharpen'], 2, "expected an input and an output file, got 'in.png'"],
    ['an unknown command', ['blur', 'in.png', 'out.png'], 2, "unknown command 'blur'"],
    ['zero workers', ['filter', 'in.png', 'out.png', '--sharpen', '--workers', '0'], 2, '--workers needs a positive integer'],
  ];
  it.each(cases)('%s', async (_, args, exitCode, message) => {
    const { code, stderr, stdout } = await convkitCli(args);
    expect(code).toBe(exitCode);
    expect(stdout).toBe('');
    expect(stderr).toContain(`convkit: ${message}`);
  });
});

it('prints usage and version, and runs as `npx convkit` in the package', async () => {
  const help = await convkitCli(['--help']);
  expect(help.code).toBe(0);
  expect(help.stdout).toContain('Usage: convkit filter <input.png> <output.png> <filter> [options]');
  const npx = await convkitCli(['convkit', '--version'], 'npx', ['--prefix', ROOT, '--no-install']);
  expect(npx.stdout.trim()).toBe(ck.backendInfo().version);
});
