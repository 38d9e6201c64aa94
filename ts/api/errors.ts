export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'SHAPE_MISMATCH'
  | 'UNSUPPORTED'
  | 'OUT_OF_MEMORY'
  | 'ABORTED'
  | 'WORKER_FAILED';

const CODES: readonly ErrorCode[] = [
  'INVALID_ARGUMENT',
  'SHAPE_MISMATCH',
  'UNSUPPORTED',
  'OUT_OF_MEMORY',
  'ABORTED',
  'WORKER_FAILED',
];

/** The one error type convkit throws (or rejects with, in the pool). */
export class ConvkitError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'ConvkitError';
    this.code = code;
  }

  /** Plain data that survives structured cloning (worker -> main thread). */
  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }

  static isCode(value: unknown): value is ErrorCode {
    return typeof value === 'string' && (CODES as readonly string[]).includes(value);
  }
}

export function invalid(message: string): ConvkitError {
  return new ConvkitError('INVALID_ARGUMENT', message);
}

export function mismatch(message: string): ConvkitError {
  return new ConvkitError('SHAPE_MISMATCH', message);
}

export function unsupported(message: string): ConvkitError {
  return new ConvkitError('UNSUPPORTED', message);
}

/** `e` with its message prefixed by the op's name (backends and workers do not know it). */
export function withOp(op: string, e: ConvkitError): ConvkitError {
  return e.message.startsWith(`${op}: `) ? e : new ConvkitError(e.code, `${op}: ${e.message}`);
}
