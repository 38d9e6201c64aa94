/** The command line of `convkit filter`: parsed into one filter call, or a UsageError saying what
 * is wrong. */

export const USAGE = `Usage: convkit filter <input.png> <output.png> <filter> [options]

Filters (exactly one):
  --box <radius>             mean of the (2·radius+1)² neighbourhood
  --gaussian <sigma>         Gaussian blur (OpenCV's kernel length for sigma)
  --sharpen
  --laplacian
  --sobel [x|y|magnitude]    gradient (default magnitude)
  --prewitt [x|y|magnitude]
  --emboss [top-left|top-right|bottom-left|bottom-right]   (default top-left)
  --kernel <rows>            a custom kernel as JSON rows, e.g. '[[0,-1,0],[-1,5,-1],[0,-1,0]]'

Options:
  --border <mode>            zeros | reflect | symmetric | replicate (default) | circular
  --channels <rgb|rgba>      rgb (default) copies alpha; rgba filters it too
  --flip                     rotate the kernel 180° (true convolution)
  --delta <number>           added before rounding
  --backend <wasm|js>
  --workers <n>              run in a pool of n worker threads
  -h, --help                 this text
  --version`;

export class UsageError extends Error {}

export type FilterName = 'filter2d' | 'boxBlur' | 'gaussianBlur' | 'sharpen' | 'laplacian' | 'sobel' | 'prewitt' | 'emboss';

export interface FilterCommand {
  command: 'filter';
  input: string;
  output: string;
  filter: FilterName;
  /** The filter's own argument: the kernel, radius or sigma (none for the others). */
  argument?: unknown;
  options: Record<string, unknown>;
  workers: number;
}

export type Command = FilterCommand | { command: 'help' } | { command: 'version' };

/** Filter flags: the op they run, and whether their value is required, optional (one of a list) or absent. */
const FILTERS: Record<string, { filter: FilterName; value?: 'number' | 'json' | readonly string[] }> = {
  box: { filter: 'boxBlur', value: 'number' },
  gaussian: { filter: 'gaussianBlur', value: 'number' },
  sharpen: { filter: 'sharpen' },
  laplacian: { filter: 'laplacian' },
  sobel: { filter: 'sobel', value: ['x', 'y', 'magnitude'] },
  prewitt: { filter: 'prewitt', value: ['x', 'y', 'magnitude'] },
  emboss: { filter: 'emboss', value: ['top-left', 'top-right', 'bottom-left', 'bottom-right'] },
  kernel: { filter: 'filter2d', value: 'json' },
};
const OPTIONS: Record<string, 'string' | 'number' | 'flag'> = { border: 'string', channels: 'string', flip: 'flag', delta: 'number', backend: 'string', workers: 'number' };

function toNumber(flag: string, text: string | undefined): number {
  const v = text === undefined || text.trim() === '' ? NaN : Number(text);
  if (!Number.isFinite(v)) throw new UsageError(`--${flag} needs a number, got ${text === undefined ? 'nothing' : `'${text}'`}`);
  return v;
}

export function parseArgs(argv: readonly string[]): Command {
  if (argv.includes('-h') || argv.includes('--help') || argv.length === 0) return { command: 'help' };
  if (argv.includes('--version')) return { command: 'version' };
  const [command, ...rest] = argv;
  if (command !== 'filter') throw new UsageError(`unknown command '${command}' (the command is 'filter')`);
  const files: string[] = [];
  const options: Record<string, unknown> = {};
  let chosen: { flag: string; filter: FilterName; argument?: unknown } | undefined;
  let workers = 0;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (!arg.startsWith('--')) {
      files.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = arg.slice(2, eq < 0 ? undefined : eq);
    const inline = eq < 0 ? undefined : arg.slice(eq + 1);
    // The flag's value: after '=', or the next argument.
    const take = () => inline ?? rest[++i];
    if (flag in FILTERS) {
      if (chosen) throw new UsageError(`choose one filter, got --${chosen.flag} and --${flag}`);
      const spec = FILTERS[flag];
      let argument: unknown;
      if (spec.value === 'number') argument = toNumber(flag, take());
      else if (spec.value === 'json') {
        const text = take();
        try {
          argument = JSON.parse(text ?? '');
        } catch {
          throw new UsageError(`--kernel needs JSON rows of numbers such as '[[1,2,1],[2,4,2],[1,2,1]]', got ${text === undefined ? 'nothing' : `'${text}'`}`);
        }
      } else if (Array.isArray(spec.value)) {
        const next = inline ?? rest[i + 1];
        if (next !== undefined && spec.value.includes(next)) {
          if (inline === undefined) i++;
          options.direction = next;
        } else if (inline !== undefined) {
          throw new UsageError(`--${flag} takes one of ${spec.value.join(', ')}, got '${inline}'`);
        }
      }
      chosen = { flag, filter: spec.filter, argument };
    } else if (flag in OPTIONS) {
      if (OPTIONS[flag] === 'flag') {
        if (inline !== undefined) throw new UsageError(`--${flag} takes no value`);
        options[flag] = true;
      } else {
        const text = take();
        if (text === undefined) throw new UsageError(`--${flag} needs a value`);
        if (flag === 'workers') {
          workers = toNumber(flag, text);
          if (!Number.isInteger(workers) || workers < 1) throw new UsageError(`--workers needs a positive integer, got '${text}'`);
        } else options[flag] = OPTIONS[flag] === 'number' ? toNumber(flag, text) : text;
      }
    } else {
      throw new UsageError(`unknown option '${arg}'`);
    }
  }
  if (files.length !== 2) throw new UsageError(`expected an input and an output file, got ${files.length === 0 ? 'none' : files.map((f) => `'${f}'`).join(' ')}`);
  if (!chosen) throw new UsageError('choose a filter (--box, --gaussian, --sharpen, --laplacian, --sobel, --prewitt, --emboss or --kernel)');
  return { command: 'filter', input: files[0], output: files[1], filter: chosen.filter, argument: chosen.argument, options, workers };
}
