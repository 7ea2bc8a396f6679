import type { ImageSet } from '@lipschitz/datasets';
import * as tf from '@tensorflow/tfjs-core';

/** The first `limit` test examples as tensors (owned by the caller). */
export function testTensors(set: ImageSet, limit?: number): { images: tf.Tensor4D; labels: tf.Tensor1D; count: number } {
  const count = Math.min(limit ?? set.count, set.count);
  const pixels = set.height * set.width * set.channels;
  const images = tf.tensor4d(set.images.subarray(0, count * pixels), [count, set.height, set.width, set.channels]);
  const labels = tf.tensor1d(set.labels.subarray(0, count), 'int32');
  return { images, labels, count };
}
