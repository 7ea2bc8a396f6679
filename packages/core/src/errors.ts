/**
 * The machine-readable reason of a {@link LipschitzError}.
 *
 * - `INVALID_ARGUMENT`: a value is out of range or of the wrong kind.
 * - `SHAPE_MISMATCH`: a tensor or array has the wrong shape or rank.
 * - `UNSUPPORTED_CONFIGURATION`: the combination of options is valid in general but not supported here
 *   (for example a bound that cannot be computed soundly).
 * - `BACKEND_UNSUPPORTED`: the requested tfjs backend is missing or lacks a kernel.
 * - `CORRUPT_DATA`: a file or buffer does not have the expected format.
 * - `NOT_FOUND`: a file, directory or run does not exist.
 * - `DISPOSED`: an object was used after `dispose()`.
 * - `NUMERICAL_ERROR`: a computation produced NaN/Infinity or a singular matrix.
 * - `ALREADY_EXISTS`: an output would overwrite a finished result.
 * - `IO_ERROR`: a read or write failed (disk full, permissions).
 * - `LIMIT_EXCEEDED`: an input declares more than a documented size limit (e.g. a model file whose
 *   activations exceed `DEFAULT_MODEL_SIZE_LIMITS` of `@lipschitz/model-format`); raise the limit to accept it.
 * - `STEP_FAILED`: a step of a multi-step job (a command it ran) failed; the job can be resumed.
 */
export type LipschitzErrorCode =
  | 'INVALID_ARGUMENT'
  | 'SHAPE_MISMATCH'
  | 'UNSUPPORTED_CONFIGURATION'
  | 'BACKEND_UNSUPPORTED'
  | 'CORRUPT_DATA'
  | 'NOT_FOUND'
  | 'DISPOSED'
  | 'NUMERICAL_ERROR'
  | 'ALREADY_EXISTS'
  | 'IO_ERROR'
  | 'LIMIT_EXCEEDED'
  | 'STEP_FAILED';

const marker = 'lipschitz.error';
const symbol = Symbol.for(marker);

/**
 * The single error class thrown by every `@lipschitz/*` package.
 *
 * Messages start with the name of the public function that failed and say what to do, e.g.
 * `bjorck: iterations must be a positive integer, got 0. Pass iterations >= 1.`
 *
 * Use {@link LipschitzError.isInstance} rather than `instanceof`: it also recognises errors thrown by
 * another copy of this package (a marker stored under `Symbol.for('lipschitz.error')`).
 *
 * @example
 * ```ts
 * try { bjorck(w, { iterations: 0 }); }
 * catch (e) { if (LipschitzError.isInstance(e) && e.code === 'INVALID_ARGUMENT') { ... } }
 * ```
 */
export class LipschitzError extends Error {
  readonly [symbol] = true;
  /** Why the call failed; stable across versions. */
  readonly code: LipschitzErrorCode;

  constructor(code: LipschitzErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LipschitzError';
    this.code = code;
  }

  /** True when `error` is a `LipschitzError` from any copy of `@lipschitz/core`. */
  static isInstance(error: unknown): error is LipschitzError {
    return (
      error != null &&
      typeof error === 'object' &&
      symbol in error &&
      (error as Record<symbol, unknown>)[symbol] === true
    );
  }
}
