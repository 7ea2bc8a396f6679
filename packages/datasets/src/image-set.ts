import { type ImageSet, LipschitzError, assertImageSet, assertNonNegativeInteger } from '@lipschitz/core';

/** The labelled image set type lives in `@lipschitz/core` (shared with `@lipschitz/train`); re-exported here. */
export type { ImageSet } from '@lipschitz/core';

/** Float32 values of `v / 255` for every byte `v` (what `ToTensor()` computes). @internal */
export const BYTE_TO_UNIT: Float32Array = (() => {
  const table = new Float32Array(256);
  for (let v = 0; v < 256; v++) table[v] = v / 255;
  return table;
})();

/** The image-set check lives in `@lipschitz/core` beside the batcher. @internal */
export { assertImageSet } from '@lipschitz/core';

/**
 * The examples `start .. start + count − 1` of `set`, as a new {@link ImageSet} whose arrays are views
 * (`subarray`) of the original — no copy. The name gets a `[start:end]` suffix.
 *
 * Throws `INVALID_ARGUMENT` when `start`/`count` are not non-negative integers or the range leaves the set.
 *
 * @example
 * ```ts
 * const { train } = await mnist();
 * const validation = subset(train, 55000, 5000);
 * ```
 */
export function subset(set: ImageSet, start: number, count: number): ImageSet {
  assertImageSet('subset', set);
  assertNonNegativeInteger('subset', 'start', start);
  assertNonNegativeInteger('subset', 'count', count);
  if (start + count > set.count) {
    throw new LipschitzError(
      'INVALID_ARGUMENT',
      `subset: the range [${start}, ${start + count}) leaves the set ${set.name} of ${set.count} examples. Pass start + count <= ${set.count}.`,
    );
  }
  if (start === 0 && count === set.count) return { ...set };
  const pixels = set.height * set.width * set.channels;
  return {
    ...set,
    images: set.images.subarray(start * pixels, (start + count) * pixels),
    labels: set.labels.subarray(start, start + count),
    count,
    name: `${set.name}[${start}:${start + count}]`,
  };
}

/**
 * How many examples of each class `set` holds: `counts[k] = #{ i : labels[i] = k }`, length
 * `numClasses`. Handy for checking a split (MNIST train: 5923, 6742, …).
 *
 * @example
 * ```ts
 * classCounts(test); // Int32Array [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
 * ```
 */
export function classCounts(set: ImageSet): Int32Array {
  assertImageSet('classCounts', set);
  const counts = new Int32Array(set.numClasses);
  for (let i = 0; i < set.count; i++) counts[set.labels[i]]++;
  return counts;
}

/** Applies `trainLimit`/`testLimit` style limits: the first `limit` examples (all when undefined). @internal */
export function limitSet(fn: string, name: string, set: ImageSet, limit: number | undefined): ImageSet {
  if (limit === undefined) return subset(set, 0, set.count);
  assertNonNegativeInteger(fn, name, limit);
  return subset(set, 0, Math.min(limit, set.count));
}
