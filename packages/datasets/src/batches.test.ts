import * as tf from '@tensorflow/tfjs-core';
import { LipschitzError, SeededRandom } from '@lipschitz/core';
import { describeBackends, expectNoLeaks } from '@lipschitz/test-utils';
import { describe, expect, it } from 'vitest';
import { type AugmentFn, randomCropFlip } from './augment';
import { batches, numBatches } from './batches';
import type { ImageSet } from './image-set';

/** A set whose pixel values encode (example, y, x, channel), so every copy can be traced. */
function tracedSet(count: number, height = 4, width = 5, channels = 2): ImageSet {
  const pixels = height * width * channels;
  const images = new Float32Array(count * pixels);
  for (let i = 0; i < images.length; i++) images[i] = (i + 1) / (images.length + 1);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) labels[i] = (i * 7) % 10;
  return { images, labels, count, height, width, channels, numClasses: 10, name: 'traced' };
}

async function collect(iterable: Iterable<{ x: tf.Tensor; y: tf.Tensor; index: number; size: number }>) {
  const out: { x: Float32Array; y: Int32Array; shape: number[]; index: number; size: number; dtype: string }[] = [];
  for (const b of iterable) {
    out.push({ x: (await b.x.data()) as Float32Array, y: (await b.y.data()) as Int32Array, shape: b.x.shape, index: b.index, size: b.size, dtype: b.y.dtype });
    tf.dispose([b.x, b.y]);
  }
  return out;
}

/** Index of the example a batch row came from (pixel values are unique per example). */
function exampleOf(set: ImageSet, row: Float32Array): number {
  const pixels = set.height * set.width * set.channels;
  return Math.round(row[0] * (set.images.length + 1) - 1) / pixels;
}

describeBackends('batches', () => {
  it('yields NHWC float32 / int32 batches in order, keeping the last partial batch', async () => {
    const set = tracedSet(10);
    const got = await collect(batches(set, { batchSize: 4 }));
    expect(got.map((b) => b.size)).toEqual([4, 4, 2]);
    expect(got.map((b) => b.index)).toEqual([0, 1, 2]);
    expect(got[2].shape).toEqual([2, 4, 5, 2]);
    expect(got[0].dtype).toBe('int32');
    const allX = Float32Array.from(got.flatMap((b) => Array.from(b.x)));
    expect(allX).toEqual(set.images);
    expect(got.flatMap((b) => Array.from(b.y))).toEqual(Array.from(set.labels));
    expect(numBatches(set, 4)).toBe(3);
  });

  it('shuffles with a seed: a permutation, the same for the same seed, different for another', async () => {
    const set = tracedSet(23);
    const pixels = 4 * 5 * 2;
    const order = async (seed: number | SeededRandom) => {
      const got = await collect(batches(set, { batchSize: 5, shuffle: true, seed }));
      const examples: number[] = [];
      for (const b of got) {
        for (let i = 0; i < b.size; i++) {
          const e = exampleOf(set, b.x.subarray(i * pixels));
          examples.push(e);
          expect(b.x.subarray(i * pixels, (i + 1) * pixels)).toEqual(set.images.subarray(e * pixels, (e + 1) * pixels));
          expect(b.y[i]).toBe(set.labels[e]);
        }
      }
      return examples;
    };
    const a = await order(7);
    expect([...a].sort((p, q) => p - q)).toEqual(Array.from({ length: 23 }, (_, i) => i));
    expect(a).not.toEqual(Array.from({ length: 23 }, (_, i) => i));
    expect(await order(7)).toEqual(a);
    expect(await order(8)).not.toEqual(a);
    // The order is the Fisher–Yates permutation of SeededRandom(seed).
    expect(a).toEqual(Array.from(new SeededRandom(7).permutation(23)));
  });

  it('advances a SeededRandom across epochs, and its saved state replays an epoch exactly', async () => {
    const set = tracedSet(12);
    const rng = new SeededRandom(3);
    const epoch1 = await collect(batches(set, { batchSize: 5, shuffle: true, seed: rng, augment: randomCropFlip({ padding: 1 }) }));
    const saved = rng.state();
    const epoch2 = await collect(batches(set, { batchSize: 5, shuffle: true, seed: rng, augment: randomCropFlip({ padding: 1 }) }));
    expect(epoch2.map((b) => Array.from(b.y))).not.toEqual(epoch1.map((b) => Array.from(b.y)));
    const replay = await collect(batches(set, { batchSize: 5, shuffle: true, seed: SeededRandom.fromState(saved), augment: randomCropFlip({ padding: 1 }) }));
    expect(replay.map((b) => Array.from(b.x))).toEqual(epoch2.map((b) => Array.from(b.x)));
    expect(replay.map((b) => Array.from(b.y))).toEqual(epoch2.map((b) => Array.from(b.y)));
  });

  it('honours limit and dropLast', async () => {
    const set = tracedSet(10);
    const limited = await collect(batches(set, { batchSize: 3, limit: 7 }));
    expect(limited.map((b) => b.size)).toEqual([3, 3, 1]);
    expect(numBatches(set, 3, 7)).toBe(3);
    const shuffled = await collect(batches(set, { batchSize: 3, limit: 7, shuffle: true, seed: 1 }));
    // The first 7 examples, shuffled: a permutation of 0..6.
    expect(shuffled.flatMap((b) => Array.from(b.y))).toEqual(Array.from(new SeededRandom(1).permutation(7), (e) => set.labels[e]));
    const dropped = await collect(batches(set, { batchSize: 3, dropLast: true }));
    expect(dropped.map((b) => b.size)).toEqual([3, 3, 3]);
    expect(numBatches(set, 3, undefined, true)).toBe(3);
    expect(await collect(batches(set, { batchSize: 3, limit: 0 }))).toEqual([]);
    expect(numBatches({ ...tracedSet(0) }, 3)).toBe(0);
  });

  it('counts MNIST-sized epochs like the reference: 60,000 = 468·128 + 96', () => {
    const big: ImageSet = { images: new Float32Array(60000), labels: new Int32Array(60000), count: 60000, height: 1, width: 1, channels: 1, numClasses: 10, name: 'big' };
    expect(numBatches(big, 128)).toBe(469);
    const sizes = [];
    for (const b of batches(big, { batchSize: 128, shuffle: true, seed: 0 })) {
      sizes.push(b.size);
      tf.dispose([b.x, b.y]);
    }
    expect(sizes.length).toBe(469);
    expect(sizes[468]).toBe(96);
  });

  it('leaks no tensors over a whole epoch, nor when stopped early', async () => {
    const set = tracedSet(37);
    const before = tf.memory().numTensors;
    let seen = 0;
    for (const { x, y } of batches(set, { batchSize: 8, shuffle: true, seed: 2, augment: 'cifar' })) {
      expect(tf.memory().numTensors).toBe(before + 2);
      seen += x.shape[0];
      tf.dispose([x, y]);
    }
    expect(seen).toBe(37);
    expect(tf.memory().numTensors).toBe(before);
    for (const { x, y } of batches(set, { batchSize: 8 })) {
      tf.dispose([x, y]);
      break;
    }
    expect(tf.memory().numTensors).toBe(before);
    await expectNoLeaks(async () => {
      for (const { x, y } of batches(set, { batchSize: 16, shuffle: true, seed: 5 })) tf.dispose([x, y]);
    });
  });

  it('never modifies the set when augmenting', async () => {
    const set = tracedSet(6);
    const copy = set.images.slice();
    const wipe: AugmentFn = (batch) => batch.fill(0.5);
    const got = await collect(batches(set, { batchSize: 4, augment: wipe, seed: 0 }));
    expect(got[0].x.every((v) => v === 0.5)).toBe(true);
    expect(set.images).toEqual(copy);
  });
});

describe('batches validation', () => {
  const set = tracedSet(4);
  const error = (f: () => unknown): LipschitzError => {
    try {
      f();
    } catch (e) {
      if (LipschitzError.isInstance(e)) return e;
      throw e;
    }
    throw new Error('expected an error');
  };
  it('throws at the call, with specific messages', () => {
    expect(error(() => batches(set, { batchSize: 0 })).message).toMatch(/^batches: batchSize must be a positive integer, got 0/);
    expect(error(() => batches(set, { batchSize: 2, limit: -1 })).message).toMatch(/^batches: limit must be a non-negative integer, got -1/);
    expect(error(() => batches(set, { batchSize: 2, shuffle: true })).message).toMatch(/^batches: shuffle needs a seed for reproducible batches/);
    expect(error(() => batches(set, { batchSize: 2, augment: 'cifar' })).message).toMatch(/^batches: augment needs a seed/);
    expect(error(() => batches(set, { batchSize: 2, augment: 'flip' as 'cifar' })).message).toMatch(/^batches: augment must be 'cifar', 'none' or a function, got flip/);
    expect(error(() => batches(set, { batchSize: 2, seed: 1.5 })).message).toMatch(/^batches: seed must be an integer or a SeededRandom, got 1\.5/);
    expect(error(() => batches({ ...set, count: 5 }, { batchSize: 2 })).message).toMatch(/^batches: set must be an ImageSet/);
    expect(error(() => batches(set, undefined as unknown as { batchSize: number })).message).toMatch(/^batches: options must be an object/);
    expect(error(() => numBatches(set, 2.5)).message).toMatch(/^numBatches: batchSize must be a positive integer, got 2\.5/);
    expect(error(() => batches(set, { batchSize: -2 })).code).toBe('INVALID_ARGUMENT');
  });
});
