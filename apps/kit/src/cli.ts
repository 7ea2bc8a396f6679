import { LipschitzError } from '@lipschitz/core';

/**
 * Runs a CLI action and turns any failure into ONE clear line on stderr (`<program>: <message>`) and a
 * non-zero exit code (2 for invalid arguments, 1 otherwise). Set `LIPSCHITZ_DEBUG=1` for the stack.
 */
export async function runAction(program: string, action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${program}: ${message.split('\n')[0]}\n`);
    if (process.env.LIPSCHITZ_DEBUG && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    process.exitCode = LipschitzError.isInstance(error) && error.code === 'INVALID_ARGUMENT' ? 2 : 1;
  }
}

/** Parses a positive integer flag, or throws `INVALID_ARGUMENT` naming the flag. */
export function parsePositiveInt(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    throw new LipschitzError('INVALID_ARGUMENT', `${flag} must be a positive integer, got ${JSON.stringify(text)}.`);
  }
  return value;
}

/** Parses a non-negative integer flag. */
export function parseNonNegativeInt(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) {
    throw new LipschitzError('INVALID_ARGUMENT', `${flag} must be a non-negative integer, got ${JSON.stringify(text)}.`);
  }
  return value;
}

/** Parses a positive finite number flag. */
export function parsePositiveNumber(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    throw new LipschitzError('INVALID_ARGUMENT', `${flag} must be a positive number, got ${JSON.stringify(text)}.`);
  }
  return value;
}

/** Parses a comma-separated list of non-negative numbers (`--eps 1.58,0.3`), keeping the text of each. */
export function parseNumberList(flag: string, text: string): { text: string; value: number }[] {
  const items = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (items.length === 0) throw new LipschitzError('INVALID_ARGUMENT', `${flag} needs at least one number.`);
  return items.map((item) => {
    const value = Number(item);
    if (!Number.isFinite(value) || value < 0) {
      throw new LipschitzError('INVALID_ARGUMENT', `${flag}: ${JSON.stringify(item)} is not a non-negative number.`);
    }
    return { text: item, value };
  });
}

/** Checks a flag against its allowed values. */
export function parseChoice<T extends string>(flag: string, text: string, allowed: readonly T[]): T {
  if (!allowed.includes(text as T)) {
    throw new LipschitzError('INVALID_ARGUMENT', `${flag} must be one of ${allowed.join(', ')}, got ${JSON.stringify(text)}.`);
  }
  return text as T;
}
