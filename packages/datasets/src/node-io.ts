import { LipschitzError, importNodeModule } from '@lipschitz/core';

/**
 * Node-only file access, loaded lazily with dynamic `import()` so that the package's browser-safe parts
 * (batching, synthetic sets, the byte parsers) never pull `node:fs` into a bundle.
 * @internal
 */

type FsPromises = typeof import('node:fs/promises');
type Zlib = typeof import('node:zlib');
type NodeModule = typeof import('node:module');

// The specifiers live in variables so that browser bundlers (esbuild, Vite, webpack) leave these
// imports alone instead of failing to resolve Node built-ins; they only run when a loader is called.
const FS_SPECIFIER = 'node:fs/promises';
const ZLIB_SPECIFIER = 'node:zlib';
const MODULE_SPECIFIER = 'node:module';

function importNode<T>(fn: string, specifier: string): Promise<T> {
  return importNodeModule<T>(
    fn,
    specifier,
    'In a browser, fetch the file yourself and pass its bytes to the parse* functions of @lipschitz/datasets.',
  );
}

let fsModule: Promise<FsPromises> | undefined;
let zlibModule: Promise<Zlib> | undefined;

/** Reads a whole file; a missing file is a `NOT_FOUND` error naming the file and how to get it. @internal */
export async function readFileBytes(fn: string, path: string, howToGet: string): Promise<Uint8Array> {
  fsModule ??= importNode<FsPromises>(fn, FS_SPECIFIER);
  const fs = await fsModule;
  try {
    const buffer = await fs.readFile(path);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new LipschitzError('NOT_FOUND', `${fn}: file ${path} does not exist. ${howToGet}`, { cause });
    }
    throw new LipschitzError('IO_ERROR', `${fn}: could not read ${path} (${code ?? String(cause)}). Check the file's permissions.`, { cause });
  }
}

/** True when `path` exists (file or directory). @internal */
export async function pathExists(fn: string, path: string): Promise<boolean> {
  fsModule ??= importNode<FsPromises>(fn, FS_SPECIFIER);
  const fs = await fsModule;
  try {
    await fs.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** True when `bytes` start with the gzip magic number 1f 8b. @internal */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Decompresses gzip bytes with node:zlib; a damaged stream is `CORRUPT_DATA` naming `source`. @internal */
export async function gunzip(fn: string, bytes: Uint8Array, source: string): Promise<Uint8Array> {
  zlibModule ??= importNode<Zlib>(fn, ZLIB_SPECIFIER);
  const zlib = await zlibModule;
  try {
    const out = zlib.gunzipSync(bytes);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (cause) {
    throw new LipschitzError(
      'CORRUPT_DATA',
      `${fn}: ${source} starts like a gzip file but does not decompress (${(cause as Error).message}); it is truncated or damaged. Download it again.`,
      { cause },
    );
  }
}

/** Joins a directory and a file name with '/' (enough for the loaders; avoids importing node:path). @internal */
export function joinPath(dir: string, name: string): string {
  return dir.endsWith('/') || dir.endsWith('\\') ? dir + name : `${dir}/${name}`;
}

/**
 * The directory of an installed npm package (resolved from this package, like `require.resolve`), or
 * `undefined` when it is not installed. @internal
 */
export async function packageDir(fn: string, name: string): Promise<string | undefined> {
  const { createRequire } = await importNode<NodeModule>(fn, MODULE_SPECIFIER);
  try {
    const packageJson = createRequire(import.meta.url).resolve(`${name}/package.json`);
    return packageJson.slice(0, packageJson.length - 'package.json'.length - 1);
  } catch {
    return undefined;
  }
}

/** The entries of a directory, sorted by name, with whether each is a directory; a missing one is `NOT_FOUND`. @internal */
export async function listDirectory(fn: string, path: string): Promise<{ name: string; directory: boolean }[]> {
  fsModule ??= importNode<FsPromises>(fn, FS_SPECIFIER);
  const fs = await fsModule;
  try {
    const entries = await fs.readdir(path, { withFileTypes: true });
    return entries.map((e) => ({ name: e.name, directory: e.isDirectory() })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new LipschitzError('NOT_FOUND', `${fn}: directory ${path} does not exist.`, { cause });
    throw new LipschitzError('IO_ERROR', `${fn}: could not list ${path} (${code ?? String(cause)}).`, { cause });
  }
}

/** True when `path` is a directory. @internal */
export async function isDirectory(fn: string, path: string): Promise<boolean> {
  fsModule ??= importNode<FsPromises>(fn, FS_SPECIFIER);
  const fs = await fsModule;
  try {
    return (await fs.stat(path)).isDirectory();
  } catch {
    return false;
  }
}
