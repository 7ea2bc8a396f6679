import { type AtomicWriteIO, LipschitzError, importNodeModule, nodeAtomicWriteIO, writeFileAtomic } from '@lipschitz/core';
import { CHECKPOINT_FORMAT, type Checkpoint, type CheckpointManifest } from './checkpoint';
import type { CheckpointSlot, RunStore } from './run-store';

/**
 * The file operations {@link openRunDirectory} uses. Each may be replaced (e.g. to test a full disk, or to
 * write somewhere else); the defaults are `node:fs/promises`.
 */
export interface RunDirectoryIO extends AtomicWriteIO {
  /** The file's bytes, or `null` when it does not exist. */
  readFile(path: string): Promise<Uint8Array | null>;
}

/**
 * The names {@link openRunDirectory} owns inside a run directory (`checkpoints` is a folder). Tools that write
 * beside a run (reports, exports) must never write over them.
 */
export const RUN_DIRECTORY_FILES: readonly string[] = Object.freeze(['config.json', 'checkpoints', 'metrics.jsonl', 'summary.json']);

/** Options of {@link openRunDirectory}. */
export interface OpenRunDirectoryOptions {
  /** Replace some file operations (fault injection in tests, other storage). */
  io?: Partial<RunDirectoryIO>;
}

interface StoredManifest extends CheckpointManifest {
  weightsFile: string;
  sha256: string;
}

// The specifiers live in variables so that browser bundlers leave these imports alone instead of failing to
// resolve Node built-ins; they only run when a run directory is opened.
const NODE_MODULES = { fs: 'node:fs/promises', path: 'node:path', crypto: 'node:crypto' } as const;

function importNode<T>(specifier: string): Promise<T> {
  return importNodeModule<T>('openRunDirectory', specifier, 'In a browser, pass store: memoryRunStore() to train instead of runDir.');
}

async function nodeIO(): Promise<RunDirectoryIO> {
  const fs = await importNode<typeof import('node:fs/promises')>(NODE_MODULES.fs);
  return {
    ...(await nodeAtomicWriteIO('openRunDirectory')),
    async readFile(path) {
      try {
        return new Uint8Array(await fs.readFile(path));
      } catch (error) {
        if ((error as { code?: string })?.code === 'ENOENT') return null;
        throw error;
      }
    },
  };
}

function ioError(action: string, path: string, cause: unknown): LipschitzError {
  if (LipschitzError.isInstance(cause)) return cause;
  const code = (cause as { code?: string })?.code;
  const detail = code ? `${code}: ${(cause as Error).message}` : String((cause as Error)?.message ?? cause);
  const hint = code === 'ENOSPC' ? 'Free disk space and retry.' : 'Check the path and its permissions, then retry.';
  return new LipschitzError('IO_ERROR', `openRunDirectory: could not ${action} ${path} (${detail}). ${hint}`, { cause });
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Opens (creating it) a training run directory in Node and returns a {@link RunStore} over it:
 *
 * ```
 * DIR/config.json            the run's settings
 * DIR/checkpoints/latest.json + latest-<id>.bin   most recent checkpoint (manifest + tensor bytes)
 * DIR/checkpoints/best.json   + best-<id>.bin     checkpoint with the best test accuracy
 * DIR/metrics.jsonl          one JSON line per epoch
 * DIR/summary.json           written when the run finishes
 * ```
 *
 * Every file is written atomically with `@lipschitz/core`'s `writeFileAtomic` (temporary file in the same
 * directory, fsync, rename, fsync of the directory; orphans of a killed earlier write are removed), and
 * `metrics.jsonl` is extended by an atomic rewrite, so a failed write leaves every file exactly as before. A checkpoint writes its binary under a new name first, then commits by renaming its manifest
 * (which names the binary and its SHA-256) over the old one, and only then deletes the old binary: a
 * `kill -9` or a full disk at any point leaves the previous checkpoint loadable.
 *
 * Node only (dynamic `node:fs` import), so the training loop itself still bundles for browsers.
 * Throws `IO_ERROR` (naming the path and the system error, e.g. `ENOSPC`) when a file operation fails,
 * and `CORRUPT_DATA` from `loadCheckpoint` when a checkpoint's binary does not match its manifest.
 *
 * @example
 * ```ts
 * const store = await openRunDirectory('runs/mnist-small');
 * await train({ ..., store }); // or simply train({ ..., runDir: 'runs/mnist-small' })
 * ```
 */
export async function openRunDirectory(dir: string, { io: overrides }: OpenRunDirectoryOptions = {}): Promise<RunStore> {
  if (typeof dir !== 'string' || dir.length === 0) {
    throw new LipschitzError('INVALID_ARGUMENT', `openRunDirectory: dir must be a non-empty path, got ${String(dir)}.`);
  }
  const io: RunDirectoryIO = { ...(await nodeIO()), ...overrides };
  const { join } = await importNode<typeof import('node:path')>(NODE_MODULES.path);
  const { createHash, randomBytes } = await importNode<typeof import('node:crypto')>(NODE_MODULES.crypto);
  const checkpointsDir = join(dir, 'checkpoints');
  const file = {
    config: join(dir, 'config.json'),
    metrics: join(dir, 'metrics.jsonl'),
    summary: join(dir, 'summary.json'),
  };
  const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

  async function guarded<T>(action: string, path: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw ioError(action, path, error);
    }
  }

  async function writeAtomic(path: string, data: Uint8Array): Promise<void> {
    try {
      await writeFileAtomic(path, data, { fn: 'openRunDirectory', io });
    } catch (error) {
      throw ioError('write', path, error);
    }
  }

  async function readJson(path: string): Promise<Record<string, unknown> | null> {
    const bytes = await guarded('read', path, () => io.readFile(path));
    if (bytes == null) return null;
    try {
      return JSON.parse(decoder.decode(bytes)) as Record<string, unknown>;
    } catch (cause) {
      throw new LipschitzError('CORRUPT_DATA', `openRunDirectory: ${path} is not valid JSON. Delete it or start a new run.`, { cause });
    }
  }

  const json = (value: unknown) => encoder.encode(`${JSON.stringify(value, null, 2)}\n`);

  await guarded('create', checkpointsDir, () => io.makeDirectory(checkpointsDir));

  return {
    location: dir,
    readConfig: () => readJson(file.config),
    writeConfig: (config) => writeAtomic(file.config, json(config)),
    readSummary: () => readJson(file.summary),
    writeSummary: (summary) => writeAtomic(file.summary, json(summary)),
    // Appending rewrites the (small) file atomically: a full disk never leaves half a line behind.
    async appendMetrics(record) {
      const previous = (await guarded('read', file.metrics, () => io.readFile(file.metrics))) ?? new Uint8Array(0);
      const line = encoder.encode(`${JSON.stringify(record)}\n`);
      const next = new Uint8Array(previous.byteLength + line.byteLength);
      next.set(previous, 0);
      next.set(line, previous.byteLength);
      await writeAtomic(file.metrics, next);
    },
    writeMetrics: (records) =>
      writeAtomic(file.metrics, encoder.encode(records.map((r) => `${JSON.stringify(r)}\n`).join(''))),

    async loadCheckpoint(slot: CheckpointSlot): Promise<Checkpoint | null> {
      const manifestPath = join(checkpointsDir, `${slot}.json`);
      const stored = (await readJson(manifestPath)) as StoredManifest | null;
      if (stored == null) return null;
      if (stored.format !== CHECKPOINT_FORMAT || typeof stored.weightsFile !== 'string' || stored.weightsFile.includes('/')) {
        throw new LipschitzError('CORRUPT_DATA', `openRunDirectory: ${manifestPath} is not a ${CHECKPOINT_FORMAT} manifest.`);
      }
      const weightsPath = join(checkpointsDir, stored.weightsFile);
      const bytes = await guarded('read', weightsPath, () => io.readFile(weightsPath));
      if (bytes == null || bytes.byteLength !== stored.byteLength || sha256(bytes) !== stored.sha256) {
        throw new LipschitzError(
          'CORRUPT_DATA',
          `openRunDirectory: ${weightsPath} is missing or does not match ${manifestPath} (length or SHA-256). Restore the file or start a new run.`,
        );
      }
      const { weightsFile: _file, sha256: _hash, ...manifest } = stored;
      const weights = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      return { manifest, weights };
    },

    async saveCheckpoint(slot: CheckpointSlot, checkpoint: Checkpoint): Promise<void> {
      const bytes = new Uint8Array(checkpoint.weights);
      const weightsFile = `${slot}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}.bin`;
      const weightsPath = join(checkpointsDir, weightsFile);
      const manifestPath = join(checkpointsDir, `${slot}.json`);
      const stored: StoredManifest = { ...checkpoint.manifest, weightsFile, sha256: sha256(bytes) };
      try {
        await writeAtomic(weightsPath, bytes);
        await writeAtomic(manifestPath, json(stored));
      } catch (error) {
        await io.remove(weightsPath).catch(() => undefined);
        throw error;
      }
      // Committed: the old binaries of this slot (and any orphan of an earlier failed save) can go.
      const names = await guarded('list', checkpointsDir, () => io.list(checkpointsDir));
      for (const name of names) {
        if (name.startsWith(`${slot}-`) && name !== weightsFile) {
          await guarded('remove', join(checkpointsDir, name), () => io.remove(join(checkpointsDir, name)));
        }
      }
    },

    async clear(): Promise<void> {
      for (const path of [file.config, file.metrics, file.summary]) await guarded('remove', path, () => io.remove(path));
      const names = await guarded('list', checkpointsDir, () => io.list(checkpointsDir));
      for (const name of names) await guarded('remove', join(checkpointsDir, name), () => io.remove(join(checkpointsDir, name)));
    },
  };
}
