import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { LipschitzError, writeFileAtomic as writeFileAtomicCore } from '@lipschitz/core';

/**
 * Writes text atomically with `@lipschitz/core`'s `writeFileAtomic` (the repository's one atomic writer):
 * creates the directory, removes the temporary files a killed earlier write of the same file left behind,
 * writes a temporary file in the same directory, then renames it. A crash or a full disk leaves the previous
 * file (if any) intact and no partial file behind.
 */
export async function writeFileAtomic(path: string, text: string | Uint8Array, fn = 'write'): Promise<void> {
  await writeFileAtomicCore(path, text, { fn, makeDirectory: true });
}

/** {@link writeFileAtomic} of pretty-printed JSON. */
export async function writeJsonAtomic(path: string, value: unknown, fn = 'write'): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`, fn);
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
