import { LipschitzError, importNodeModule, writeFileAtomic } from '@lipschitz/core';
import { type NpyArray, parseNpy, serializeNpy } from './npy';
import type { PointCloud } from './point-cloud';

/**
 * Reads a `.npy` file (Node only; `node:fs` is loaded on demand so the package stays browser-safe).
 * @throws LipschitzError `NOT_FOUND` when the file does not exist; `CORRUPT_DATA` from {@link parseNpy}.
 */
export async function readNpy(path: string): Promise<NpyArray> {
  const { readFile } = await importNodeModule<typeof import('node:fs/promises')>('readNpy', 'node:fs/promises', 'In a browser, fetch the file and pass its bytes to parseNpy.');
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new LipschitzError(
      code === 'ENOENT' ? 'NOT_FOUND' : 'IO_ERROR',
      `readNpy: cannot read ${path} (${code ?? String(cause)}). Check the path.`,
      { cause },
    );
  }
  return parseNpy(bytes, path);
}

/**
 * Writes a `.npy` file atomically with `@lipschitz/core`'s `writeFileAtomic` (a temporary file in the same
 * directory, then rename; orphans of a killed earlier write are removed), so a reader never sees a
 * half-written file. Node only.
 * @throws LipschitzError `IO_ERROR` when the file cannot be written (it is then unchanged).
 */
export async function writeNpy(path: string, values: Float32Array | Float64Array, shape: readonly number[]): Promise<void> {
  const bytes = serializeNpy(values, shape);
  await writeFileAtomic(path, bytes, { fn: 'writeNpy' });
}

/**
 * Views a 2-D `.npy` array (rows are points) as a {@link PointCloud}.
 * @throws LipschitzError `SHAPE_MISMATCH` unless the array is 2-D with at least one row and column.
 */
export function npyToPointCloud(array: NpyArray, where = 'array'): PointCloud {
  if (array.shape.length !== 2 || array.shape[0] < 1 || array.shape[1] < 1) {
    throw new LipschitzError(
      'SHAPE_MISMATCH',
      `npyToPointCloud: ${where} must be a 2-D array of shape (points, dimensions), got shape (${array.shape.join(', ')}).`,
    );
  }
  return { points: array.values, count: array.shape[0], dim: array.shape[1] };
}
