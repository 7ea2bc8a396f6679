import { LipschitzError, assertNonNegativeInteger } from '@lipschitz/core';
import { type ImageSet, limitSet } from './image-set';
import { joinPath, pathExists } from './node-io';

/** Limits shared by every file loader: keep the first `trainLimit` / `testLimit` examples. */
export interface SplitLimits {
  /** Keep only the first `trainLimit` training examples (default: all). */
  trainLimit?: number;
  /** Keep only the first `testLimit` test examples (default: all). */
  testLimit?: number;
}

/** A train/test pair of image sets. */
export interface TrainTestSets {
  train: ImageSet;
  test: ImageSet;
}

/** Validates `trainLimit`/`testLimit` before any file is read. @internal */
export function assertLimits(fn: string, options: SplitLimits): void {
  if (options == null || typeof options !== 'object') {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: options must be an object such as { trainLimit: 1000 }.`);
  }
  if (options.trainLimit !== undefined) assertNonNegativeInteger(fn, 'trainLimit', options.trainLimit);
  if (options.testLimit !== undefined) assertNonNegativeInteger(fn, 'testLimit', options.testLimit);
}

const cache = new Map<string, Promise<unknown>>();

/** Per-process cache of parsed sets; a failed load is forgotten so it can be retried. @internal */
export function cached<T>(key: string, load: () => Promise<T>): Promise<T> {
  let entry = cache.get(key) as Promise<T> | undefined;
  if (!entry) {
    entry = load();
    cache.set(key, entry);
    entry.catch(() => cache.delete(key));
  }
  return entry;
}

/** Resolves `dir` or `dir/<sub>` to the directory that holds `probe`. @internal */
export async function resolveDataDir(fn: string, dir: unknown, sub: string, probe: string): Promise<string> {
  if (typeof dir !== 'string' || dir === '') {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: dir must be the directory holding the data files, got ${String(dir)}. Pass { dir: '/path/to/data' }.`);
  }
  if (!(await pathExists(fn, joinPath(dir, probe))) && (await pathExists(fn, joinPath(joinPath(dir, sub), probe)))) {
    return joinPath(dir, sub);
  }
  return dir;
}

/** Concatenates parsed parts of one split. @internal */
export function concatParts(parts: { images: Float32Array; labels: Int32Array; count: number }[], pixelsPerImage: number) {
  const count = parts.reduce((n, p) => n + p.count, 0);
  const images = new Float32Array(count * pixelsPerImage);
  const labels = new Int32Array(count);
  let at = 0;
  for (const p of parts) {
    images.set(p.images, at * pixelsPerImage);
    labels.set(p.labels, at);
    at += p.count;
  }
  return { images, labels, count };
}

/**
 * Loads (through the cache) only the splits whose limit is not 0; a split with limit 0 is an empty set of
 * the right shape and its files are not read (STL-10's test split alone is 885 MB as float32). @internal
 */
export async function loadSplitsLazily(
  fn: string,
  key: string,
  options: SplitLimits,
  shape: { height: number; width: number; channels: number; numClasses: number; name: string },
  load: (split: 'train' | 'test') => Promise<ImageSet>,
): Promise<TrainTestSets> {
  const one = async (split: 'train' | 'test', limitName: string, limit: number | undefined): Promise<ImageSet> => {
    if (limit === 0) {
      return { images: new Float32Array(0), labels: new Int32Array(0), count: 0, ...shape, name: `${shape.name}/${split}[0:0]` };
    }
    return limitSet(fn, limitName, await cached(`${key}:${split}`, () => load(split)), limit);
  };
  const [train, test] = await Promise.all([one('train', 'trainLimit', options.trainLimit), one('test', 'testLimit', options.testLimit)]);
  return { train, test };
}
