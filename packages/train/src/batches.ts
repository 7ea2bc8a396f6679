import { LipschitzError, SeededRandom, assertNonNegativeInteger, assertPositiveInteger } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';

/**
 * A labelled image set, NHWC float32 in [0, 1], structurally the same as `ImageSet` from
 * `@lipschitz/datasets` (so either can be passed).
 */
export interface LabeledImages {
  /** `count · height · width · channels` values, NHWC row-major. */
  images: Float32Array;
  /** `count` labels in `[0, numClasses)`. */
  labels: Int32Array;
  count: number;
  height: number;
  width: number;
  channels: number;
  numClasses: number;
  name?: string;
}

/** One batch: tensors owned by the consumer (dispose both). */
export interface Batch {
  /** `[size, height, width, channels]`. */
  x: tf.Tensor4D;
  /** `[size]` int32 labels. */
  y: tf.Tensor1D;
  /** 0-based index of the batch in the epoch. */
  index: number;
  size: number;
}

/** Options of a {@link Batcher}. */
export interface BatchOptions {
  batchSize: number;
  /** Shuffle the (limited) set with `seed` (default false: the set's order). */
  shuffle?: boolean;
  /** Seed of the shuffle (and of any augmentation); equal seeds must give equal batches. */
  seed?: number;
  /** Use only the first `limit` examples (before shuffling). */
  limit?: number;
}

/**
 * A deterministic batch source: for equal `set` and options it yields equal batches, in order. `train()`
 * relies on this for exact resume. `batches` from `@lipschitz/datasets` (e.g. with augmentation) fits:
 * `(set, o) => batches(set, { ...o, augment: 'cifar' })`.
 */
export type Batcher = (set: LabeledImages, options: BatchOptions) => Iterable<Batch>;

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
 * The default {@link Batcher}: batches of `batchSize` examples in the set's order or, with `shuffle`, in the
 * order of a Fisher–Yates permutation drawn from `new SeededRandom(seed)`; the last partial batch is kept
 * (as PyTorch's `DataLoader(drop_last=False)` in the reference: 60000 = 468·128 + 96).
 *
 * Ownership: each yielded batch's `x` and `y` belong to the consumer. Nothing is allocated until a batch
 * is requested, so breaking out of the loop early leaks nothing.
 *
 * Throws `INVALID_ARGUMENT` for a bad batch size, limit or seed.
 *
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
  const count = Math.min(set.count, limit ?? set.count);
  const order = shuffle ? new SeededRandom(seed).permutation(count) : null;
  const pixels = set.height * set.width * set.channels;
  for (let start = 0, index = 0; start < count; start += batchSize, index++) {
    const size = Math.min(batchSize, count - start);
    const xs = new Float32Array(size * pixels);
    const ys = new Int32Array(size);
    for (let i = 0; i < size; i++) {
      const example = order ? order[start + i] : start + i;
      xs.set(set.images.subarray(example * pixels, (example + 1) * pixels), i * pixels);
      ys[i] = set.labels[example];
    }
    yield {
      x: tf.tensor4d(xs, [size, set.height, set.width, set.channels]),
      y: tf.tensor1d(ys, 'int32'),
      index,
      size,
    };
  }
}
