import { LipschitzError, importNodeModule, writeFileAtomic } from '@lipschitz/core';
import type { LayerModule } from './layer-base';
import { type DeserializeModelOptions, type LoadedModel, type SerializeModelOptions, deserializeModel, serializeModel } from './serialize-model';

// Node file I/O lives here, behind dynamic imports of node:fs, so the rest of the package runs in browsers.

async function nodeFs() {
  const hint = 'In a browser use serializeModel/deserializeModel.';
  const [fs, path] = await Promise.all([
    importNodeModule<typeof import('node:fs/promises')>('saveModel/loadModel', 'node:fs/promises', hint),
    importNodeModule<typeof import('node:path')>('saveModel/loadModel', 'node:path', hint),
  ]);
  return { fs, path };
}

/**
 * Saves a model (architecture, variables and optionally the optimizer state) to `file`, atomically:
 * the bytes of {@link serializeModel} go to a temporary file in the same directory, which is then
 * renamed over `file` (`writeFileAtomic` of `@lipschitz/core`), so a crash never leaves a half-written model
 * and a killed earlier save leaves no orphan behind. Node only.
 *
 * Ownership: borrows the model and optimizer. Throws `IO_ERROR` when the file cannot be written,
 * `UNSUPPORTED_CONFIGURATION` outside Node.
 *
 * @example
 * ```ts
 * await saveModel(model, 'runs/a/model.lpz', { optimizer });
 * ```
 */
export async function saveModel(model: LayerModule, file: string, options: SerializeModelOptions = {}): Promise<void> {
  const bytes = await serializeModel(model, options);
  await writeFileAtomic(file, bytes, { fn: 'saveModel' });
}

/**
 * Loads a model written by {@link saveModel} (see {@link deserializeModel}; the optimizer state is
 * restored into `options.optimizer` when given). Node only.
 *
 * Ownership: the caller owns the returned model. Throws `NOT_FOUND` when the file does not exist,
 * `IO_ERROR` when it cannot be read, `CORRUPT_DATA` / `SHAPE_MISMATCH` as `deserializeModel`
 * (nothing is changed then).
 *
 * @example
 * ```ts
 * const { model } = await loadModel('runs/a/model.lpz', { optimizer });
 * ```
 */
export async function loadModel(file: string, options: DeserializeModelOptions = {}): Promise<LoadedModel> {
  const { fs } = await nodeFs();
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await fs.readFile(file));
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'NOT_FOUND' : 'IO_ERROR';
    throw new LipschitzError(code, `loadModel: cannot read ${file}: ${(cause as Error).message}.`, { cause });
  }
  return deserializeModel(bytes, options);
}
