import * as tf from '@tensorflow/tfjs-core';
import { LipschitzError } from './errors';
import type { Batch, ImageSet } from './image-set';
import { SeededRandom } from './random';
import { assertNonNegativeInteger, assertPositiveInteger } from './validate';

/**
 * A host-side, seeded data augmentation: edits `batch` (NHWC float32 of `shape = [n, h, w, c]`, a fresh
 * copy owned by the batcher — never the data set) in place, drawing all randomness from `rng` so the
 * result is deterministic for a seed. `@lipschitz/datasets` has the reference's (`cifarAugment`).
 */
export type AugmentFn = (batch: Float32Array, shape: readonly [number, number, number, number], rng: SeededRandom) => void;

/** Options of {@link batches}. */
export interface BatchOptions {
  /** Examples per batch. */
  batchSize: number;
  /** Visit the examples in a seeded random order (default false: in order). Needs `seed`. */
  shuffle?: boolean;
  /**
   * Randomness for shuffling and augmentation: an integer seed, or a {@link SeededRandom} that is
   * advanced (so successive epochs differ, and saving its `state()` checkpoints the data order exactly).
   */
  seed?: number | SeededRandom;
  /** Use only the first `limit` examples of the set (taken before shuffling, so the same examples every epoch; default: all). */
  limit?: number;
  /** Host-side augmentation of each batch: an {@link AugmentFn}, or `'none'` (default). */
  augment?: 'none' | AugmentFn;
  /** Drop a last partial batch (default false: it is kept, as in the reference). */
  dropLast?: boolean;
}

/** Throws `INVALID_ARGUMENT` unless `set` is a consistent {@link ImageSet} (arrays of the right types and lengths). */
export function assertImageSet(fn: string, set: unknown): asserts set is ImageSet {
  const s = set as ImageSet;
  const ok =
    s != null &&
    typeof s === 'object' &&
    s.images instanceof Float32Array &&
    s.labels instanceof Int32Array &&
    [s.count, s.height, s.width, s.channels, s.numClasses].every((d) => Number.isInteger(d) && d >= 0) &&
    s.labels.length === s.count &&
    s.images.length === s.count * s.height * s.width * s.channels;
  if (!ok) {
    throw new LipschitzError(
      'INVALID_ARGUMENT',
      `${fn}: set must be an ImageSet ({ images: Float32Array of count·height·width·channels values, labels: Int32Array of count values, count, height, width, channels, numClasses, name }). Build one with a loader such as mnist() or syntheticImages().`,
    );
  }
}

/**
 * Number of batches {@link batches} yields for `set`: `ceil(min(count, limit) / batchSize)` (or `floor`
 * with `dropLast`). MNIST train with batch 128: 469 (468 full + one of 96).
 *
 * Throws `INVALID_ARGUMENT` for a non-positive batch size or a negative limit.
 *
 * @example
 * ```ts
 * numBatches(train, 128); // 469 for the 60,000 MNIST training images
 * ```
 */
export function numBatches(set: ImageSet, batchSize: number, limit?: number, dropLast = false): number {
  assertImageSet('numBatches', set);
  assertPositiveInteger('numBatches', 'batchSize', batchSize);
  if (limit !== undefined) assertNonNegativeInteger('numBatches', 'limit', limit);
  const n = limit === undefined ? set.count : Math.min(limit, set.count);
  return dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
}

/**
 * Splits `set` into mini-batches of tensors, on demand (a generator: one batch's tensors exist at a time
 * unless the consumer keeps them) — the one batcher of the library: `@lipschitz/datasets` re-exports it (adding
 * `augment: 'cifar'`) and it is `train()`'s and `evaluate()`'s default. The order is `0..count−1`, or with
 * `shuffle` a Fisher–Yates permutation drawn from `seed` (same seed → same batches). With `limit`, only the first
 * `limit` examples of the set are used (chosen before shuffling, like `trainLimit`); the last partial batch is
 * kept unless `dropLast` (reference-bcop §8: 60,000 = 468·128 + 96). `augment` edits each batch's host copy
 * before upload (the set itself is never modified).
 *
 * Randomness: the permutation is drawn when `batches` is called; augmentation draws happen as each batch
 * is produced, in order. With a {@link SeededRandom} passed as `seed`, both advance it, so restoring its
 * saved `state()` reproduces the rest exactly.
 *
 * Ownership: each yielded `x`/`y` belongs to the consumer, who disposes them; the generator holds no other
 * tensors, so stopping early leaks nothing. Validation happens at the call, not at the first `next()`.
 *
 * Throws `INVALID_ARGUMENT` for a bad set, batch size, limit or augment, or when `shuffle`/an augmentation is
 * asked for without `seed`.
 *
 * @example
 * ```ts
 * const rng = new SeededRandom(0);
 * for (const { x, y } of batches(train, { batchSize: 128, shuffle: true, seed: rng })) {
 *   // ... train on x, y
 *   tf.dispose([x, y]);
 * }
 * ```
 * @see reference-bcop §8 (shuffled batches of 128, last partial batch kept).
 */
export function batches(set: ImageSet, options: BatchOptions): Generator<Batch, void, undefined> {
  const fn = 'batches';
  assertImageSet(fn, set);
  if (options == null || typeof options !== 'object') {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: options must be an object such as { batchSize: 128 }.`);
  }
  const { batchSize, shuffle = false, seed, limit, augment = 'none', dropLast = false } = options;
  assertPositiveInteger(fn, 'batchSize', batchSize);
  if (limit !== undefined) assertNonNegativeInteger(fn, 'limit', limit);
  if (typeof shuffle !== 'boolean') throw new LipschitzError('INVALID_ARGUMENT', `${fn}: shuffle must be a boolean, got ${String(shuffle)}.`);
  if (typeof dropLast !== 'boolean') throw new LipschitzError('INVALID_ARGUMENT', `${fn}: dropLast must be a boolean, got ${String(dropLast)}.`);
  if (augment !== 'none' && typeof augment !== 'function') {
    throw new LipschitzError(
      'INVALID_ARGUMENT',
      `${fn}: augment must be 'none' or a function, got ${String(augment)} (the named augmentations such as 'cifar' are those of batches from @lipschitz/datasets).`,
    );
  }
  const augmentFn = augment === 'none' ? undefined : augment;
  let rng: SeededRandom | undefined;
  if (seed instanceof SeededRandom) rng = seed;
  else if (seed !== undefined) {
    if (typeof seed !== 'number' || !Number.isInteger(seed)) {
      throw new LipschitzError('INVALID_ARGUMENT', `${fn}: seed must be an integer or a SeededRandom, got ${String(seed)}.`);
    }
    rng = new SeededRandom(seed);
  }
  if (!rng && (shuffle || augmentFn)) {
    throw new LipschitzError(
      'INVALID_ARGUMENT',
      `${fn}: ${shuffle ? 'shuffle' : 'augment'} needs a seed for reproducible batches. Pass { seed: 0 } or { seed: new SeededRandom(0) } (advanced every epoch).`,
    );
  }
  const used = limit === undefined ? set.count : Math.min(limit, set.count);
  const total = dropLast ? Math.floor(used / batchSize) : Math.ceil(used / batchSize);
  const order = shuffle && rng ? rng.permutation(used) : undefined;
  return generate(set, batchSize, used, total, order, augmentFn, rng);
}

function* generate(
  set: ImageSet,
  batchSize: number,
  used: number,
  total: number,
  order: Int32Array | undefined,
  augment: AugmentFn | undefined,
  rng: SeededRandom | undefined,
): Generator<Batch, void, undefined> {
  const { height, width, channels } = set;
  const pixels = height * width * channels;
  for (let b = 0; b < total; b++) {
    const start = b * batchSize;
    const size = Math.min(batchSize, used - start);
    const images = new Float32Array(size * pixels);
    const labels = new Int32Array(size);
    for (let i = 0; i < size; i++) {
      const e = order ? order[start + i] : start + i;
      images.set(set.images.subarray(e * pixels, (e + 1) * pixels), i * pixels);
      labels[i] = set.labels[e];
    }
    if (augment && rng) augment(images, [size, height, width, channels], rng);
    const x = tf.tensor4d(images, [size, height, width, channels], 'float32');
    const y = tf.tensor1d(labels, 'int32');
    yield { x, y, index: b, size };
  }
}
