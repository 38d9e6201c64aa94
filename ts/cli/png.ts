/** PNG files to and from 8-bit RGBA images, through fast-png (decoding every PNG colour type and
 * bit depth, palettes and tRNS transparency included). */

import { convertIndexedToRgb, decode, encode, type DecodedPng } from 'fast-png';
import type { FilteredImage, ImageLike } from '../api/image.js';

/** Thrown for bytes that are not a PNG image fast-png can read. */
export class UnreadableImage extends Error {}

/** Unpacks rows of 1, 2 or 4-bit samples (each row starts on a byte) to one value per byte. */
function unpack(data: Uint8Array, width: number, height: number, channels: number, depth: number): Uint8Array {
  const perRow = width * channels;
  const rowBytes = Math.ceil((perRow * depth) / 8);
  const out = new Uint8Array(perRow * height);
  const mask = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    for (let i = 0; i < perRow; i++) {
      const bit = i * depth;
      out[y * perRow + i] = (data[y * rowBytes + (bit >> 3)] >> (8 - depth - (bit & 7))) & mask;
    }
  }
  return out;
}

/** Decoded samples to RGBA bytes: grey is spread over red, green and blue, 16-bit samples are
 * rounded to 8 bits, low bit depths are scaled to 0..255 and a tRNS colour key becomes alpha 0. */
function toRgba(png: DecodedPng): ImageLike {
  const { width, height } = png;
  let { channels, depth } = png;
  let samples: ArrayLike<number> = png.data;
  let key: Uint16Array | undefined = png.transparency;
  if (png.palette) {
    samples = convertIndexedToRgb(png);
    channels = samples.length / (width * height);
    depth = 8;
    key = undefined;
  } else if (depth < 8) {
    samples = unpack(png.data as Uint8Array, width, height, channels, depth);
  }
  const max = (1 << depth) - 1;
  const to8 = (v: number) => Math.round((v * 255) / max);
  const grey = channels <= 2;
  const hasAlpha = channels === 2 || channels === 4;
  const out = new Uint8ClampedArray(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    const s = p * channels;
    const rgb = grey ? [samples[s], samples[s], samples[s]] : [samples[s], samples[s + 1], samples[s + 2]];
    for (let c = 0; c < 3; c++) out[p * 4 + c] = to8(rgb[c]);
    const keyed = key !== undefined && key.length > 0 && (grey ? samples[s] === key[0] : rgb.every((v, c) => v === key![c]));
    out[p * 4 + 3] = hasAlpha ? to8(samples[s + channels - 1]) : keyed ? 0 : 255;
  }
  return { data: out, width, height };
}

export function readPng(bytes: Uint8Array): ImageLike {
  let png: DecodedPng;
  try {
    png = decode(bytes);
  } catch (e) {
    throw new UnreadableImage(e instanceof Error ? e.message : String(e));
  }
  return toRgba(png);
}

export function writePng(image: FilteredImage): Uint8Array {
  return encode({ width: image.width, height: image.height, data: image.data, channels: 4, depth: 8 });
}
