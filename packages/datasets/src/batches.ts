import { type Batch, type BatchOptions as CoreBatchOptions, LipschitzError, batches as coreBatches } from '@lipschitz/core';
import { type AugmentFn, cifarAugment } from './augment';
import type { ImageSet } from './image-set';

/** One mini-batch (the type lives in `@lipschitz/core`). The consumer owns `x` and `y` and must dispose them. */
export type { Batch } from '@lipschitz/core';
/** The batch count of {@link batches}; it lives in `@lipschitz/core` beside the batcher. */
export { numBatches } from '@lipschitz/core';

/** Options of {@link batches}: those of `batches` in `@lipschitz/core`, and the named augmentation `'cifar'`. */
export interface BatchOptions extends Omit<CoreBatchOptions, 'augment'> {
  /** Host-side augmentation: `'cifar'` (the reference's random crop with 4 zero padding + horizontal flip), `'none'` (default) or an {@link AugmentFn}. */
  augment?: 'cifar' | 'none' | AugmentFn;
}

/**
 * Splits `set` into mini-batches of tensors, on demand: `batches` of `@lipschitz/core` (the library's one batcher,
 * also `train()`'s default — same seed, same batches), with the named augmentation `augment: 'cifar'`
 * ({@link cifarAugment}, the reference's random crop with 4 zero padding and horizontal flip). The order is
 * `0..count−1`, or with `shuffle` a Fisher–Yates permutation drawn from `seed`; with `limit`, only the first
 * `limit` examples are used (chosen before shuffling); the last partial batch is kept unless `dropLast`
 * (reference-bcop §8: 60,000 = 468·128 + 96). A {@link SeededRandom} as `seed` is advanced, so restoring its
 * saved `state()` reproduces the rest exactly.
 *
 * Ownership: each yielded `x`/`y` belongs to the consumer, who disposes them; stopping early leaks nothing.
 * Validation happens at the call, not at the first `next()`.
 *
 * Throws `INVALID_ARGUMENT` for a bad set, batch size, limit or augment, or when `shuffle`/a random
 * augmentation is asked for without `seed`.
 *
 * @example
 * ```ts
 * const rng = new SeededRandom(0);
 * for (const { x, y } of batches(train, { batchSize: 128, shuffle: true, seed: rng, augment: 'cifar' })) {
 *   // ... train on x, y
 *   tf.dispose([x, y]);
 * }
 * ```
 * @see reference-bcop §8 (shuffled batches of 128, last partial batch kept; CIFAR augmentation).
 */
export function batches(set: ImageSet, options: BatchOptions): Generator<Batch, void, undefined> {
  if (options == null || typeof options !== 'object') {
    throw new LipschitzError('INVALID_ARGUMENT', 'batches: options must be an object such as { batchSize: 128 }.');
  }
  const { augment = 'none' } = options;
  if (augment !== 'cifar' && augment !== 'none' && typeof augment !== 'function') {
    throw new LipschitzError('INVALID_ARGUMENT', `batches: augment must be 'cifar', 'none' or a function, got ${String(augment)}.`);
  }
  return coreBatches(set, { ...options, augment: augment === 'cifar' ? cifarAugment : augment });
}
