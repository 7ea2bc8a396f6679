import { LipschitzError } from '@lipschitz/core';
import { convSingularValues } from '@lipschitz/linalg';
import { FAST_POLAR, type OrthogonalizerSpec, bjorck } from '@lipschitz/orthogonalize';
import { describeBackends, expectClose, expectNoLeaks, finiteDifferenceGradient, seededNormal } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { circularConvSingularValues, maxDeviationFromOne, polarFactor } from '../test/helpers';
import { bcopInitialParams, bcopParamsShape } from './bcop-initial-params';
import { bcopKernel } from './bcop-kernel';
import { bcopKernelFromOrthogonal } from './bcop-kernel-from-orthogonal';

const CHANNELS: [number, number][] = [
  [3, 3],
  [2, 4],
  [4, 2],
  [1, 3],
  [3, 1],
];

/** Exact orthogonal matrices (float64 polar factors of Gaussian matrices): the input of steps 2–6. */
async function exactOrthogonalStack(shape: { inChannels: number; outChannels: number; kernelSize: number }, seed: number): Promise<tf.Tensor3D> {
  const pShape = bcopParamsShape(shape);
  const [count, n] = pShape;
  const gaussian = seededNormal(pShape, seed);
  const values = await gaussian.data();
  gaussian.dispose();
  const out = new Float32Array(values.length);
  for (let m = 0; m < count; m++) out.set(polarFactor(values.subarray(m * n * n, (m + 1) * n * n), n), m * n * n);
  return tf.tensor3d(out, pShape);
}

/** The number of singular values that must be 1: min(cin, cout)·h·w. */
function expectAllOnes(sv: number[], cin: number, cout: number, h: number, w: number, tol: number): void {
  expect(sv).toHaveLength(Math.min(cin, cout) * h * w);
  expect(maxDeviationFromOne(sv), `max |σ − 1| for ${cin}→${cout} on ${h}×${w}`).toBeLessThan(tol);
}

describeBackends('bcopKernel', () => {
  it('builds an orthogonal / isometric / co-isometric circular convolution from exact orthogonal matrices (k = 1..5)', async () => {
    for (const [cin, cout] of CHANNELS) {
      for (let k = 1; k <= 5; k++) {
        const shape = { inChannels: cin, outChannels: cout, kernelSize: k };
        const ortho = await exactOrthogonalStack(shape, 10 * k + cin);
        const kernel = bcopKernelFromOrthogonal(ortho, shape);
        expect(kernel.shape).toEqual([k, k, cin, cout]);
        for (const [h, w] of [
          [3, 3],
          [4, 5],
        ]) {
          expectAllOnes(await circularConvSingularValues(kernel, h, w), cin, cout, h, w, 2e-5);
        }
      }
    }
  });

  it('is orthogonal up to float32 after 20 Björck steps from bcopInitialParams (exact oracle)', async () => {
    for (const [cin, cout] of CHANNELS) {
      for (let k = 1; k <= 5; k++) {
        const shape = { inChannels: cin, outChannels: cout, kernelSize: k };
        const kernel = bcopKernel(bcopInitialParams({ ...shape, seed: k }), shape);
        const [h, w] = k === 5 ? [2, 3] : [4, 3]; // 2×3 < 5×5: the kernel wraps around
        expectAllOnes(await circularConvSingularValues(kernel, h, w), cin, cout, h, w, 1e-4);
      }
    }
  });

  it('stays orthogonal for perturbed (non-orthogonal) parameters once Björck has converged', async () => {
    for (const [cin, cout] of CHANNELS) {
      for (const k of [2, 3, 4]) {
        const shape = { inChannels: cin, outChannels: cout, kernelSize: k };
        const params = tf.add(bcopInitialParams({ ...shape, seed: 100 + k }), seededNormal(bcopParamsShape(shape), k, 0.25 / Math.max(cin, cout))) as tf.Tensor3D;
        const kernel = bcopKernel(params, { ...shape, iterations: 30 });
        const sv = await circularConvSingularValues(kernel, 4, 4);
        expectAllOnes(sv, cin, cout, 4, 4, 1e-4);
        expect(sv[0]).toBeLessThan(1 + 1e-4);
      }
    }
  });

  it('is orthogonal at larger sizes (float64 FFT spectrum from @lipschitz/linalg)', async () => {
    for (const [cin, cout, k, size] of [
      [8, 8, 3, 8],
      [16, 8, 2, 7],
      [4, 12, 4, 6],
    ]) {
      const shape = { inChannels: cin, outChannels: cout, kernelSize: k };
      const kernel = bcopKernel(bcopInitialParams({ ...shape, seed: cin }), shape);
      const sv = Array.from(convSingularValues(await kernel.data(), [k, k, cin, cout], [size, size]));
      expectAllOnes(sv.slice(0, Math.min(cin, cout) * size * size), cin, cout, size, size, 1e-4);
    }
  });

  it('takes any orthogonalizer spec (Björck with options, polar express, Cayley) and stays orthogonal', async () => {
    const specs: OrthogonalizerSpec[] = [{ kind: 'bjorck', iterations: 30, seed: 1 }, FAST_POLAR, { kind: 'cayley' }];
    for (const orthogonalizer of specs) {
      for (const [cin, cout] of [
        [3, 3],
        [2, 4],
        [4, 2],
      ]) {
        const shape = { inChannels: cin, outChannels: cout, kernelSize: 3 };
        const params = tf.add(bcopInitialParams({ ...shape, seed: 5 }), seededNormal(bcopParamsShape(shape), 6, 0.1)) as tf.Tensor3D;
        const kernel = bcopKernel(params, { ...shape, orthogonalizer });
        expectAllOnes(await circularConvSingularValues(kernel, 3, 4), cin, cout, 3, 4, 1e-4);
      }
    }
  });

  it('gives the batched result and gradient with large matrices (wasm orthogonalizes them one by one)', async () => {
    for (const shape of [
      { inChannels: 48, outChannels: 48, kernelSize: 2 },
      { inChannels: 48, outChannels: 24, kernelSize: 3 },
    ]) {
      const params = tf.add(bcopInitialParams({ ...shape, seed: 1 }), seededNormal(bcopParamsShape(shape), 2, 0.01)) as tf.Tensor3D;
      const g = seededNormal([shape.kernelSize, shape.kernelSize, shape.inChannels, shape.outChannels], 3);
      const ours = (p: tf.Tensor) => tf.sum(tf.mul(bcopKernel(p as tf.Tensor3D, shape), g));
      const batched = (p: tf.Tensor) => tf.sum(tf.mul(bcopKernelFromOrthogonal(bjorck(p, { iterations: 20 }) as tf.Tensor3D, shape), g));
      await expectClose(bcopKernel(params, shape), bcopKernelFromOrthogonal(bjorck(params, { iterations: 20 }) as tf.Tensor3D, shape), { atol: 1e-5 });
      await expectClose(tf.grad(ours)(params), tf.grad(batched)(params), { atol: 1e-4 });
    }
  });

  it('has a gradient that matches finite differences through Björck and the block convolutions', async () => {
    for (const [cin, cout, k] of [
      [2, 3, 3],
      [3, 2, 3],
      [2, 2, 2],
      [4, 2, 2],
    ]) {
      const shape = { inChannels: cin, outChannels: cout, kernelSize: k };
      const pShape = bcopParamsShape(shape);
      const params = tf.add(bcopInitialParams({ ...shape, seed: 3 }), seededNormal(pShape, 4, 0.05)) as tf.Tensor3D;
      const weights = seededNormal([k, k, cin, cout], 5);
      const loss = (p: tf.Tensor) => tf.sum(tf.mul(bcopKernel(p as tf.Tensor3D, { ...shape, iterations: 25 }), weights)) as tf.Scalar;
      const analytic = await tf.grad(loss)(params).data();
      const size = params.size;
      // Coordinates in H (index 0), the first and the last projector source.
      const n = pShape[1];
      const indices = [0, 1, n + 1, n * n + 2, 2 * n * n + n, size - 1];
      const numeric = await finiteDifferenceGradient(loss, params, 1e-2, indices);
      let scale = 0;
      for (const v of analytic) scale = Math.max(scale, Math.abs(v));
      expect(scale).toBeGreaterThan(0.05);
      for (const i of indices) expect(Math.abs(analytic[i] - numeric.get(i)!), `coordinate ${i}`).toBeLessThan(0.002 * scale + 1e-4);
    }
  });

  it('does not leak (forward and backward)', async () => {
    const shape = { inChannels: 2, outChannels: 3, kernelSize: 3 };
    const params = bcopInitialParams({ ...shape, seed: 1 });
    await expectNoLeaks(() => bcopKernel(params, shape));
    await expectNoLeaks(() => bcopKernel(params, { ...shape, inChannels: 3, outChannels: 2 }));
    await expectNoLeaks(() => tf.grad((p: tf.Tensor) => tf.sum(bcopKernel(p as tf.Tensor3D, shape)))(params));
    const k2 = { inChannels: 3, outChannels: 2, kernelSize: 2 };
    const params2 = bcopInitialParams({ ...k2, seed: 2 });
    await expectNoLeaks(() => tf.grad((p: tf.Tensor) => tf.sum(bcopKernel(p as tf.Tensor3D, k2)))(params2));
    const single = bcopInitialParams({ inChannels: 2, outChannels: 3, kernelSize: 1, seed: 1 });
    await expectNoLeaks(() => bcopKernel(single, { ...shape, kernelSize: 1 }));
  });

  it('names the argument and the expected shape in its errors', () => {
    const shape = { inChannels: 2, outChannels: 4, kernelSize: 2 };
    const params = tf.zeros([3, 4, 4]) as tf.Tensor3D;
    expect(() => bcopKernel(tf.zeros([3, 3, 3]) as tf.Tensor3D, shape)).toThrow(
      /^bcopKernel: params must have shape \[3, 4, 4\] = \[2\(kernelSize − 1\) \+ 1, cmax, cmax\] with cmax = max\(inChannels, outChannels\) = 4 .*got \[3, 3, 3\]\. Create parameters with bcopInitialParams\./,
    );
    expect(() => bcopKernel(params, { ...shape, kernelSize: 3 })).toThrow(/^bcopKernel: params must have shape \[5, 4, 4\]/);
    expect(() => bcopKernel(params, { ...shape, kernelSize: 0 })).toThrow(/^bcopKernel: kernelSize must be a positive integer, got 0/);
    expect(() => bcopKernel(params, { ...shape, iterations: 0 })).toThrow(/^bcopKernel: iterations must be a positive integer, got 0/);
    expect(() => bcopKernel(tf.zeros([12, 4]) as unknown as tf.Tensor3D, shape)).toThrow(/^bcopKernel: params must have rank 3/);
    expect(() => bcopKernel(params, { ...shape, iterations: 30, orthogonalizer: { kind: 'cayley' } })).toThrow(
      /^bcopKernel: pass either iterations or orthogonalizer, not both\. Put the iteration count in the orthogonalizer spec/,
    );
    expect(() => bcopKernelFromOrthogonal(params, { ...shape, outChannels: 5 })).toThrow(/^bcopKernelFromOrthogonal: ortho must have shape \[3, 5, 5\]/);
    try {
      bcopKernel(params, { ...shape, inChannels: -1 });
      expect.fail('did not throw');
    } catch (e) {
      expect(LipschitzError.isInstance(e) && e.code).toBe('INVALID_ARGUMENT');
    }
  });
});
