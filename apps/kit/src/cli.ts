import { LipschitzError } from '@lipschitz/core';

/**
 * The exit code of a usage error in both CLIs: an unknown option, a missing required option or value, a bad
 * value (`INVALID_ARGUMENT`). Any other failure exits 1; success, `--help` and `--version` exit 0.
 */
export const USAGE_ERROR_EXIT_CODE = 2;

/**
 * commander's `exitOverride` callback of both CLIs: help and `--version` exit 0; every parsing error
 * (unknown option or command, missing required option, missing value) exits {@link USAGE_ERROR_EXIT_CODE},
 * as a bad value does in {@link runAction}. commander has already printed its one-line message.
 */
export function exitOnUsageError(error: { exitCode: number }): never {
  process.exit(error.exitCode === 0 ? 0 : USAGE_ERROR_EXIT_CODE);
}

/**
 * Runs a CLI action and turns any failure into ONE clear line on stderr (`<program>: <message>`) and a
 * non-zero exit code ({@link USAGE_ERROR_EXIT_CODE} for invalid arguments, 1 otherwise). Set
 * `LIPSCHITZ_DEBUG=1` for the stack.
 */
export async function runAction(program: string, action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${program}: ${message.split('\n')[0]}\n`);
    if (process.env.LIPSCHITZ_DEBUG && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    process.exitCode = LipschitzError.isInstance(error) && error.code === 'INVALID_ARGUMENT' ? USAGE_ERROR_EXIT_CODE : 1;
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
