import {
  type Batch,
  type BatcherOptions,
  type ImageSet,
  LipschitzError,
  assertNonNegativeInteger,
  assertPositiveInteger,
  batches,
} from '@lipschitz/core';

/**
 * A labelled image set: `ImageSet` of `@lipschitz/core` (what `@lipschitz/datasets` loads).
 * @deprecated Use `ImageSet` from `@lipschitz/core`; this alias stays for existing code.
 */
export type LabeledImages = ImageSet;

/** The options a {@link Batcher} receives (`BatcherOptions` of `@lipschitz/core`). */
export type BatchOptions = BatcherOptions;

export type { Batch, Batcher } from '@lipschitz/core';

/** Validates the fields `train()` and `evaluate()` read from a {@link LabeledImages}. */
export function assertLabeledImages(fn: string, name: string, set: LabeledImages): void {
  if (set == null || typeof set !== 'object' || !(set.images instanceof Float32Array) || !(set.labels instanceof Int32Array)) {
    throw new LipschitzError(
      'INVALID_ARGUMENT',
      `${fn}: ${name} must be an image set with images: Float32Array and labels: Int32Array (an ImageSet from @lipschitz/datasets).`,
    );
  }
  for (const key of ['count', 'height', 'width', 'channels', 'numClasses'] as const) {
    assertPositiveInteger(fn, `${name}.${key}`, set[key]);
  }
  const pixels = set.height * set.width * set.channels;
  if (set.images.length !== set.count * pixels || set.labels.length !== set.count) {
    throw new LipschitzError(
      'SHAPE_MISMATCH',
      `${fn}: ${name} has ${set.images.length} pixel values and ${set.labels.length} labels, but count ${set.count} × ${set.height}×${set.width}×${set.channels} needs ${set.count * pixels} and ${set.count}.`,
    );
  }
}

/**
 * `batches` of `@lipschitz/core` — the library's one batcher, `train()`'s and `evaluate()`'s default and what
 * `@lipschitz/datasets` re-exports — under its former name, with its former defaults (`seed` 0): batches of
 * `batchSize` examples in the set's order or, with `shuffle`, in the order of a Fisher–Yates permutation drawn from
 * `new SeededRandom(seed)`; the last partial batch is kept (as PyTorch's `DataLoader(drop_last=False)` in the
 * reference: 60000 = 468·128 + 96).
 *
 * Ownership: each yielded batch's `x` and `y` belong to the consumer. Nothing is allocated until a batch
 * is requested, so breaking out of the loop early leaks nothing.
 *
 * Throws `INVALID_ARGUMENT` for a bad batch size, limit or seed.
 *
 * @deprecated Use `batches` from `@lipschitz/core` (or `@lipschitz/datasets`, which adds `augment: 'cifar'`).
 * @example
 * ```ts
 * for (const { x, y } of shuffledBatches(set, { batchSize: 128, shuffle: true, seed: 0 })) {
 *   ...; x.dispose(); y.dispose();
 * }
 * ```
 */
export function* shuffledBatches(set: LabeledImages, { batchSize, shuffle = false, seed = 0, limit }: BatchOptions): Generator<Batch> {
  assertPositiveInteger('shuffledBatches', 'batchSize', batchSize);
  if (limit !== undefined) assertNonNegativeInteger('shuffledBatches', 'limit', limit);
  yield* batches(set, { batchSize, shuffle, seed, ...(limit !== undefined ? { limit } : {}) });
}
