import { LipschitzError } from './errors';
import { importNodeModule } from './node-module';

/**
 * The file operations {@link writeFileAtomic} uses; each may be replaced (e.g. a write that fails with
 * `ENOSPC`, to test a full disk). The defaults are `node:fs/promises`.
 */
export interface AtomicWriteIO {
  /** Creates or truncates `path`, writes `data`, fsyncs it and closes it. */
  writeFileDurable(path: string, data: Uint8Array): Promise<void>;
  /** `rename(2)`: atomically replaces `to`. */
  rename(from: string, to: string): Promise<void>;
  /** fsyncs a directory so a rename in it is durable (a no-op where directories cannot be opened). */
  syncDirectory(path: string): Promise<void>;
  /** Removes a file; no error when it does not exist. */
  remove(path: string): Promise<void>;
  /** The names in a directory (`[]` when it does not exist). */
  list(path: string): Promise<string[]>;
  /** `mkdir -p`. */
  makeDirectory(path: string): Promise<void>;
}

/** Options of {@link writeFileAtomic}. */
export interface WriteFileAtomicOptions {
  /** The public function that writes (starts the error message); default `'writeFileAtomic'`. */
  fn?: string;
  /** Create the parent directory first (`mkdir -p`); default false. */
  makeDirectory?: boolean;
  /** Replace some file operations (fault injection in tests). */
  io?: Partial<AtomicWriteIO>;
}

const NODE_FS = 'node:fs/promises';
const NODE_PATH = 'node:path';
const HINT = 'In a browser, keep the bytes in memory (or offer them as a download) instead of writing a file.';

/** The system error code (`ENOSPC`, `ENOENT`, ...) of a failed file operation, if any. */
function errorCode(error: unknown): string | undefined {
  return (error as { code?: string })?.code;
}

/**
 * The `node:fs/promises` implementation of {@link AtomicWriteIO} (durable writes with fsync, directory
 * fsync that tolerates file systems without it), for stores that add their own operations to it.
 *
 * Throws `UNSUPPORTED_CONFIGURATION` (naming `fn`) outside Node.
 *
 * @example
 * ```ts
 * const io = { ...(await nodeAtomicWriteIO('openRunDirectory')), readFile };
 * ```
 */
export async function nodeAtomicWriteIO(fn: string): Promise<AtomicWriteIO> {
  const fs = await importNodeModule<typeof import('node:fs/promises')>(fn, NODE_FS, HINT);
  return {
    async writeFileDurable(path, data) {
      const handle = await fs.open(path, 'w');
      try {
        await handle.writeFile(data);
        await handle.sync();
      } finally {
        await handle.close();
      }
    },
    rename: (from, to) => fs.rename(from, to),
    async syncDirectory(path) {
      let handle: Awaited<ReturnType<typeof fs.open>> | undefined;
      try {
        handle = await fs.open(path, 'r');
        await handle.sync();
      } catch (error) {
        const code = errorCode(error);
        if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EACCES') throw error;
      } finally {
        await handle?.close();
      }
    },
    async remove(path) {
      await fs.rm(path, { force: true });
    },
    async list(path) {
      try {
        return await fs.readdir(path);
      } catch (error) {
        if (errorCode(error) === 'ENOENT') return [];
        throw error;
      }
    },
    async makeDirectory(path) {
      await fs.mkdir(path, { recursive: true });
    },
  };
}

let cachedNodeIO: Promise<AtomicWriteIO> | null = null;

/** True when process `pid` still runs (a temporary file of a live writer must not be removed). */
function processAlive(pid: number): boolean {
  if (typeof process === 'undefined' || typeof process.kill !== 'function') return true;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The temporary-file names a writer of `base` may have left behind, with the writer's process id:
 * this writer's `.<base>.<pid>.<token>.tmp`, and the older `<base>.<pid>.<digits>.tmp` of the apps'
 * and `.npy` writers.
 */
function temporaryPattern(base: string): RegExp {
  const name = escapeRegExp(base);
  return new RegExp(`^(?:\\.${name}\\.(\\d+)\\.[0-9a-z]+|${name}\\.(\\d+)\\.\\d+)\\.tmp$`);
}

/**
 * The name of the temporary file {@link writeFileAtomic} writes before renaming it over `base`:
 * `.<base>.<pid>.<token>.tmp` in the same directory. Exported for tests and tools that look for orphans.
 *
 * @example
 * ```ts
 * isAtomicWriteTemporary('config.json', '.config.json.4242.k3j2h1.tmp'); // true
 * ```
 */
export function isAtomicWriteTemporary(base: string, name: string): boolean {
  return temporaryPattern(base).test(name);
}

/**
 * Writes a file atomically — the one atomic writer of the repository (runs, checkpoints, saved models,
 * exported models, `.npy` files, reports):
 *
 * 1. removes the temporary files that an earlier writer of the same file left behind when it was killed
 *    (`kill -9`, a power cut): names `.<base>.<pid>.<token>.tmp` whose process no longer runs;
 * 2. writes `data` to a new temporary file `.<base>.<pid>.<token>.tmp` in the same directory and fsyncs it;
 * 3. renames it over `path` (`rename(2)` is atomic) and fsyncs the directory.
 *
 * A reader sees the old file or the new one, never a mix. When any step fails (a full disk: `ENOSPC`), the
 * temporary file is removed and `path` is exactly as before. Node only (`node:fs` is loaded on demand, so the
 * package still bundles for browsers).
 *
 * Ownership: borrows `data`. Throws `IO_ERROR` naming `fn`, the path and the system error (and saying that the
 * file is unchanged); `UNSUPPORTED_CONFIGURATION` outside Node.
 *
 * @example
 * ```ts
 * await writeFileAtomic('runs/a/config.json', JSON.stringify(config), { fn: 'train' });
 * ```
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, options: WriteFileAtomicOptions = {}): Promise<void> {
  const fn = options.fn ?? 'writeFileAtomic';
  if (typeof path !== 'string' || path.length === 0) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: the path must be a non-empty string, got ${String(path)}.`);
  }
  cachedNodeIO ??= nodeAtomicWriteIO(fn).catch((error) => {
    cachedNodeIO = null;
    throw error;
  });
  const io: AtomicWriteIO = { ...(await cachedNodeIO), ...options.io };
  const { dirname, basename, join } = await importNodeModule<typeof import('node:path')>(fn, NODE_PATH, HINT);
  const directory = dirname(path);
  const base = basename(path);
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const token = `${Date.now().toString(36)}${Math.floor(Math.random() * 36 ** 6).toString(36)}`;
  const pid = typeof process !== 'undefined' ? process.pid : 0;
  const temporary = join(directory, `.${base}.${pid}.${token}.tmp`);
  let wroteTemporary = false;
  try {
    if (options.makeDirectory) await io.makeDirectory(directory);
    const pattern = temporaryPattern(base);
    for (const name of await io.list(directory)) {
      const match = pattern.exec(name);
      if (match && !processAlive(Number(match[1] ?? match[2]))) await io.remove(join(directory, name));
    }
    wroteTemporary = true;
    await io.writeFileDurable(temporary, bytes);
    await io.rename(temporary, path);
    wroteTemporary = false;
  } catch (cause) {
    if (wroteTemporary) await io.remove(temporary).catch(() => undefined);
    if (LipschitzError.isInstance(cause)) throw cause;
    const code = errorCode(cause);
    const detail = code ? `${code}: ${(cause as Error).message}` : String((cause as Error)?.message ?? cause);
    const hint =
      code === 'ENOSPC'
        ? 'Free disk space and retry; the file is unchanged.'
        : code === 'ENOENT'
          ? 'Check that the directory exists, then retry; the file is unchanged.'
          : 'Check the path and its permissions, then retry; the file is unchanged.';
    throw new LipschitzError('IO_ERROR', `${fn}: could not write ${path} (${detail}). ${hint}`, { cause });
  }
  try {
    await io.syncDirectory(directory);
  } catch (cause) {
    throw new LipschitzError(
      'IO_ERROR',
      `${fn}: wrote ${path} but could not sync its directory (${errorCode(cause) ?? String(cause)}); the new file may not survive a power cut. Check the file system.`,
      { cause },
    );
  }
}
