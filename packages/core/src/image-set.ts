import type * as tf from '@tensorflow/tfjs-core';

/**
 * A labelled image data set held on the host — the one data type that `@lipschitz/datasets` produces and
 * `@lipschitz/train` consumes.
 *
 * `images` is NHWC float32 in [0, 1] (`count × height × width × channels`, row-major: example `i`,
 * row `y`, column `x`, channel `c` is at `((i·height + y)·width + x)·channels + c`); `labels[i]` is the
 * class of example `i`, an integer in `[0, numClasses)`. This is what PyTorch's `ToTensor()` gives,
 * moved to channels-last (the reference uses no mean/std normalization).
 *
 * Sets returned by the file loaders are cached per process and may share their arrays with other
 * calls: treat `images` and `labels` as read-only (copy before editing in place).
 *
 * @example
 * ```ts
 * const set: ImageSet = { images, labels, count: 2, height: 28, width: 28, channels: 1, numClasses: 10, name: 'mine' };
 * ```
 */
export interface ImageSet {
  /** NHWC float32 pixels in [0, 1]; length `count·height·width·channels`. */
  images: Float32Array;
  /** Class index per example, in `[0, numClasses)`; length `count`. */
  labels: Int32Array;
  /** Number of examples. */
  count: number;
  height: number;
  width: number;
  channels: number;
  /** Number of classes (labels are `0 .. numClasses − 1`). */
  numClasses: number;
  /** A human-readable name such as `mnist/train`. */
  name: string;
}

/** One mini-batch. The consumer owns `x` and `y` and must dispose them. */
export interface Batch {
  /** Images, NHWC float32 `[size, height, width, channels]`. */
  x: tf.Tensor4D;
  /** Labels, int32 `[size]`. */
  y: tf.Tensor1D;
  /** Position of this batch in the epoch, 0-based. */
  index: number;
  /** Number of examples in this batch (`batchSize`, or fewer for the last one). */
  size: number;
}

/** What a training loop asks a {@link Batcher} for. */
export interface BatcherOptions {
  /** Examples per batch. */
  batchSize: number;
  /** Visit the (limited) set in a seeded random order (default false: the set's order). */
  shuffle?: boolean;
  /** Seed of the shuffle (and of any augmentation); equal seeds must give equal batches. */
  seed?: number;
  /** Use only the first `limit` examples (before shuffling). */
  limit?: number;
}

/**
 * A deterministic batch source: for equal `set` and options it yields equal batches, in order (training
 * loops rely on this for exact resume). `batches` of `@lipschitz/core` is the default one; that of `@lipschitz/datasets` adds named augmentations:
 * `(set, o) => batches(set, { ...o, augment: 'cifar' })`.
 *
 * @example
 * ```ts
 * const batcher: Batcher = (set, options) => batches(set, options);
 * ```
 */
export type Batcher = (set: ImageSet, options: BatcherOptions) => Iterable<Batch>;
