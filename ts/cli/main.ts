/** `convkit filter in.png out.png --gaussian 2 --border reflect`: filters a PNG file. Exit codes:
 * 0 done, 1 a file could not be read or written, 2 a usage error or bad filter options. */

import { readFile, writeFile } from 'node:fs/promises';
import { ConvkitError } from '../api/errors.js';
import type { FilteredImage, ImageLike } from '../api/image.js';
import * as convkit from '../index.js';
import { VERSION } from '../runtime.js';
import { parseArgs, USAGE, UsageError, type FilterCommand } from './args.js';
import { readPng, UnreadableImage, writePng } from './png.js';

class FileError extends Error {}

function describeFsError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EISDIR') return 'it is a directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return e instanceof Error ? e.message : String(e);
}

type Filter = (image: ImageLike, ...rest: unknown[]) => FilteredImage | Promise<FilteredImage>;

async function runFilter(cmd: FilterCommand): Promise<void> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(cmd.input);
  } catch (e) {
    throw new FileError(`cannot read '${cmd.input}': ${describeFsError(e)}`);
  }
  let image: ImageLike;
  try {
    image = readPng(bytes);
  } catch (e) {
    if (e instanceof UnreadableImage) throw new FileError(`'${cmd.input}' is not a readable PNG image (${e.message})`);
    throw e;
  }
  const args = cmd.argument === undefined ? [cmd.options] : [cmd.argument, cmd.options];
  let result: FilteredImage;
  if (cmd.workers > 0) {
    const pool = await convkit.createPool({ workers: cmd.workers });
    try {
      result = await (pool[cmd.filter] as Filter)(image, ...args);
    } finally {
      await pool.terminate();
    }
  } else {
    await convkit.init();
    result = await (convkit[cmd.filter] as Filter)(image, ...args);
  }
  try {
    await writeFile(cmd.output, writePng(result));
  } catch (e) {
    throw new FileError(`cannot write '${cmd.output}': ${describeFsError(e)}`);
  }
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    const cmd = parseArgs(argv);
    if (cmd.command === 'help') console.log(USAGE);
    else if (cmd.command === 'version') console.log(VERSION);
    else await runFilter(cmd);
    return 0;
  } catch (e) {
    if (e instanceof FileError) {
      console.error(`convkit: ${e.message}`);
      return 1;
    }
    if (e instanceof UsageError || (e instanceof ConvkitError && e.code === 'INVALID_ARGUMENT')) {
      console.error(`convkit: ${e.message}\nRun 'convkit --help' for usage.`);
      return 2;
    }
    console.error(`convkit: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
