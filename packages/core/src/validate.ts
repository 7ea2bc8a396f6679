import { LipschitzError } from './errors';

/**
 * Shared argument validators. Each throws a {@link LipschitzError} whose message starts with the
 * calling function's name (`fn`), names the argument, shows the offending value and says what to pass.
 */

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.join(', ')}]`;
  return String(value);
}

/** Throws `INVALID_ARGUMENT` unless `value` is an integer ≥ 1. */
export function assertPositiveInteger(fn: string, name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: ${name} must be a positive integer, got ${show(value)}. Pass an integer >= 1.`);
  }
}

/** Throws `INVALID_ARGUMENT` unless `value` is an integer ≥ 0. */
export function assertNonNegativeInteger(fn: string, name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: ${name} must be a non-negative integer, got ${show(value)}. Pass an integer >= 0.`);
  }
}

/** Throws `INVALID_ARGUMENT` unless `value` is a finite number. */
export function assertFiniteNumber(fn: string, name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: ${name} must be a finite number, got ${show(value)}.`);
  }
}

/** Throws `INVALID_ARGUMENT` unless `value` is a finite number > 0. */
export function assertPositiveNumber(fn: string, name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: ${name} must be a finite number > 0, got ${show(value)}.`);
  }
}

/**
 * Throws `INVALID_ARGUMENT` unless `min ≤ value ≤ max` (or `<` when the bound is exclusive).
 */
export function assertInRange(
  fn: string,
  name: string,
  value: unknown,
  min: number,
  max: number,
  { minExclusive = false, maxExclusive = false }: { minExclusive?: boolean; maxExclusive?: boolean } = {},
): asserts value is number {
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (minExclusive ? value > min : value >= min) &&
    (maxExclusive ? value < max : value <= max);
  if (!ok) {
    const range = `${minExclusive ? '(' : '['}${min}, ${max}${maxExclusive ? ')' : ']'}`;
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: ${name} must be in ${range}, got ${show(value)}.`);
  }
}

/** Throws `INVALID_ARGUMENT` unless `value` is one of `allowed`. */
export function assertOneOf<T extends string | number>(
  fn: string,
  name: string,
  value: unknown,
  allowed: readonly T[],
): asserts value is T {
  if (!allowed.includes(value as T)) {
    throw new LipschitzError(
      'INVALID_ARGUMENT',
      `${fn}: ${name} must be one of ${allowed.map((a) => show(a)).join(', ')}, got ${show(value)}.`,
    );
  }
}

/** Throws `SHAPE_MISMATCH` unless `shape` has exactly `rank` dimensions. */
export function assertRank(fn: string, name: string, shape: readonly number[], rank: number | readonly number[]): void {
  const ranks = typeof rank === 'number' ? [rank] : rank;
  if (!ranks.includes(shape.length)) {
    throw new LipschitzError(
      'SHAPE_MISMATCH',
      `${fn}: ${name} must have rank ${ranks.join(' or ')}, got rank ${shape.length} (shape [${shape.join(', ')}]).`,
    );
  }
}

/**
 * Throws `SHAPE_MISMATCH` unless `shape` equals `expected`; `null` entries in `expected` match any size.
 */
export function assertShape(
  fn: string,
  name: string,
  shape: readonly number[],
  expected: readonly (number | null)[],
): void {
  const ok = shape.length === expected.length && expected.every((e, i) => e === null || e === shape[i]);
  if (!ok) {
    const want = expected.map((e) => (e === null ? '*' : String(e))).join(', ');
    throw new LipschitzError('SHAPE_MISMATCH', `${fn}: ${name} must have shape [${want}], got [${shape.join(', ')}].`);
  }
}

/** Throws `DISPOSED` when `disposed` is true. */
export function assertNotDisposed(fn: string, disposed: boolean): void {
  if (disposed) {
    throw new LipschitzError('DISPOSED', `${fn}: this object was disposed. Create a new one instead of reusing it.`);
  }
}
