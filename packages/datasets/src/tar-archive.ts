import { LipschitzError } from '@lipschitz/core';

/** A regular file of a tar archive. */
export interface TarEntry {
  /** Path inside the archive, with '/' separators and no leading './'. */
  path: string;
  /** The file's bytes (a view into the archive's buffer). */
  data: Uint8Array;
}

const BLOCK = 512;
const decoder = new TextDecoder();

function field(header: Uint8Array, start: number, length: number): string {
  const bytes = header.subarray(start, start + length);
  const end = bytes.indexOf(0);
  return decoder.decode(end < 0 ? bytes : bytes.subarray(0, end));
}

function octal(header: Uint8Array, start: number, length: number, fn: string, source: string): number {
  // GNU base-256 for sizes ≥ 8 GiB: high bit of the first byte set.
  if (header[start] & 0x80) {
    let value = 0;
    for (let i = start + 1; i < start + length; i++) value = value * 256 + header[i];
    return value;
  }
  const text = field(header, start, length).trim();
  const value = text === '' ? 0 : Number.parseInt(text, 8);
  if (!Number.isFinite(value) || value < 0) throw new LipschitzError('CORRUPT_DATA', `${fn}: ${source} has a damaged tar header (size field "${text}"). The archive is not a tar file or is truncated.`);
  return value;
}

/** Reads the `path=` record of a pax extended header, if any. */
function paxPath(data: Uint8Array): string | undefined {
  const text = decoder.decode(data);
  for (const line of text.split('\n')) {
    const match = /^\d+ path=(.*)$/.exec(line);
    if (match) return match[1];
  }
  return undefined;
}

/**
 * The regular files of a POSIX (ustar/pax) or GNU tar archive held in memory, in archive order. Handles the
 * ustar `prefix` field, pax `path` records and GNU long names (`L`); skips directories, links and other
 * entry types. Paths lose a leading `./`. A checksum that does not match, or an entry running past the end,
 * is `CORRUPT_DATA` naming `source`.
 *
 * @example
 * ```ts
 * const files = parseTar(await gunzip(bytes)).filter((f) => f.path.endsWith('.jpg'));
 * ```
 * @see POSIX.1-2001 `pax` (ustar interchange format); GNU tar manual, "Basic Tar Format".
 */
export function parseTar(bytes: Uint8Array, source = 'the archive', fn = 'parseTar'): TarEntry[] {
  const entries: TarEntry[] = [];
  let offset = 0;
  let longName: string | undefined;
  while (offset + BLOCK <= bytes.length) {
    const header = bytes.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) break; // end-of-archive marker
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : header[i];
    const stored = octal(header, 148, 8, fn, source);
    if (sum !== stored) {
      throw new LipschitzError('CORRUPT_DATA', `${fn}: ${source} has a tar header at byte ${offset} whose checksum does not match; it is not a tar archive or it is damaged.`);
    }
    const size = octal(header, 124, 12, fn, source);
    const type = String.fromCharCode(header[156] || 48);
    const start = offset + BLOCK;
    if (start + size > bytes.length) {
      throw new LipschitzError('CORRUPT_DATA', `${fn}: ${source} ends inside an entry (needs ${start + size} bytes, has ${bytes.length}); it is truncated.`);
    }
    const data = bytes.subarray(start, start + size);
    offset = start + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'L') {
      longName = field(data, 0, data.length);
      continue;
    }
    if (type === 'x') {
      longName = paxPath(data) ?? longName;
      continue;
    }
    if (type === 'g') continue;
    const magic = field(header, 257, 6);
    const prefix = magic.startsWith('ustar') ? field(header, 345, 155) : '';
    let path = longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
    longName = undefined;
    if (type !== '0' && type !== '7') continue; // regular files only
    while (path.startsWith('./')) path = path.slice(2);
    entries.push({ path, data });
  }
  return entries;
}
