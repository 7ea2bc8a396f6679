import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { LipschitzError } from '@lipschitz/core';

/**
 * Writes text atomically: a temporary file in the same directory, then rename. A crash or a full disk leaves
 * the previous file (if any) intact and no partial file behind.
 */
export async function writeFileAtomic(path: string, text: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
  try {
    await writeFile(temporary, text);
    await rename(temporary, path);
  } catch (cause) {
    await rm(temporary, { force: true });
    const code = (cause as NodeJS.ErrnoException).code;
    throw new LipschitzError(
      'IO_ERROR',
      `cannot write ${path} (${code ?? String(cause)})${code === 'ENOSPC' ? ': the disk is full; free space and retry' : ''}.`,
      { cause },
    );
  }
}

/** {@link writeFileAtomic} of pretty-printed JSON. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** Reads and parses a JSON file; `NOT_FOUND` / `CORRUPT_DATA` errors name the file. */
export async function readJson<T>(path: string, what = 'file'): Promise<T> {
  if (!existsSync(path)) throw new LipschitzError('NOT_FOUND', `${what} ${path} does not exist.`);
  const text = await readFile(path, 'utf8');
  try {
    return JSON.parse(text) as T;
  } catch (cause) {
    throw new LipschitzError('CORRUPT_DATA', `${what} ${path} is not valid JSON (${(cause as Error).message}).`, { cause });
  }
}
