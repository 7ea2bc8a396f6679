// BCOP kernel construction (forward + backward w.r.t. the parameters, 20 Björck iterations) versus a
// plain convolution layer of the same shape (forward + backward w.r.t. input and kernel, batch 128 at
// 14×14), both on wasm in the same run. Also times one batched Björck call on the whole parameter stack
// (what bcopKernel avoids on wasm, whose batched matMul is slow).
import { prepareBackend } from '@lipschitz/backends';
import { measure, writeBenchResult } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { test } from 'vitest';
// The root package does not depend on @lipschitz/blockconv / orthogonalize, so import their sources.
import { bcopInitialParams, bcopKernel } from '../packages/blockconv/src/index';
import { bjorck } from '../packages/orthogonalize/src/index';

const CHANNELS = [16, 32, 64, 128, 256];
const KERNEL_SIZES = [2, 3];
const BATCH = 128;
const SIZE = 14;

test('blockconv: BCOP kernel construction fwd+bwd vs a plain conv2d layer fwd+bwd (wasm)', async () => {
  await prepareBackend('wasm');
  const rows: Record<string, number>[] = [];
  for (const channels of CHANNELS) {
    for (const kernelSize of KERNEL_SIZES) {
      const shape = { inChannels: channels, outChannels: channels, kernelSize };
      const params = bcopInitialParams({ ...shape, seed: 0 });
      const weights = tf.randomNormal([kernelSize, kernelSize, channels, channels], 0, 1, 'float32', 1);
      const x = tf.randomNormal([BATCH, SIZE, SIZE, channels], 0, 1, 'float32', 2) as tf.Tensor4D;
      const w = tf.randomNormal([kernelSize, kernelSize, channels, channels], 0, 0.1, 'float32', 3) as tf.Tensor4D;
      const dy = tf.randomNormal([BATCH, SIZE, SIZE, channels], 0, 1, 'float32', 4);
      const big = channels >= 128;
      const options = { warmup: 1, repeats: big ? 3 : 5 };

      const ours = await measure(
        () => tf.grad((p: tf.Tensor) => tf.sum(tf.mul(bcopKernel(p as tf.Tensor3D, shape), weights)))(params),
        options,
      );
      // What one batched Björck call on the whole stack would cost on wasm (bcopKernel avoids it there).
      const stackWeights = tf.randomNormal(params.shape, 0, 1, 'float32', 5);
      const batchedBjorck = await measure(
        () => tf.grad((p: tf.Tensor) => tf.sum(tf.mul(bjorck(p, { iterations: 20 }), stackWeights)))(params),
        big ? { warmup: 0, repeats: 1 } : options,
      );
      const conv = await measure(
        () =>
          tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'), dy)))([x, w]),
        options,
      );
      rows.push({
        channels,
        kernelSize,
        bcopKernelFwdBwdMedianMs: ours.medianMs,
        batchedBjorckFwdBwdMedianMs: batchedBjorck.medianMs,
        convFwdBwdMedianMs: conv.medianMs,
        kernelOverConvRatio: ours.medianMs / conv.medianMs,
        batchedBjorckOverKernelRatio: batchedBjorck.medianMs / ours.medianMs,
      });
      tf.dispose([params, weights, x, w, dy, stackWeights]);
    }
  }
  writeBenchResult('blockconv-kernel', {
    description:
      'BCOP kernel construction (bcopKernel, 20 Björck iterations, cin = cout) forward+backward w.r.t. params, vs a plain tf.conv2d layer of the same kernel shape forward+backward (dx, dW) at batch 128, 14×14, same padding, wasm. Ratio < 1: building the orthogonal kernel costs less than one conv layer step. batchedBjorck: one batched bjorck call on the whole [2(k-1)+1, c, c] stack, fwd+bwd (what bcopKernel avoids on wasm by orthogonalizing matrix by matrix).',
    batch: BATCH,
    spatial: SIZE,
    iterations: 20,
    results: rows,
  });
});
