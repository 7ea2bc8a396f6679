import { circularConv2d } from '@lipschitz/blockconv';
import { LipschitzError } from '@lipschitz/core';
import { describeBackends, expectClose, expectNoLeaks, seededNormal } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { mapSingularValues } from '../test/helpers/conv-oracle';
import { type SvcmConv2d, svcmConv2d } from './svcm-conv2d';

const exactNorm = async (kernel: tf.Tensor, size: [number, number]) =>
  (await mapSingularValues((z) => circularConv2d(z as tf.Tensor4D, kernel as tf.Tensor4D), [size[0], size[1], kernel.shape[2] as number]))[0];

describeBackends('svcmConv2d', () => {
  it('is a plain circular convolution in the forward pass', async () => {
    const layer = svcmConv2d({ inChannels: 2, outChannels: 3, kernelSize: 3, seed: 1 }) as SvcmConv2d;
    const x = seededNormal([2, 5, 5, 2], 1);
    await expectClose(layer.apply(x), tf.add(circularConv2d(x as tf.Tensor4D, layer.kernel as unknown as tf.Tensor4D), layer.bias!), { atol: 1e-6 });
    expect(layer.inputSize).toEqual([5, 5]);
    layer.dispose();
  });

  it('afterStep projects every projectEvery steps: exact σ_max ≤ 1 + 1e-2 after 50 rounds, bound ≥ exact', async () => {
    const layer = svcmConv2d({ inChannels: 3, outChannels: 3, kernelSize: 3, inputSize: [6, 6], projectEvery: 4, seed: 2 }) as SvcmConv2d;
    layer.kernel.assign(tf.mul(layer.kernel, 5));
    const before = await layer.kernel.data();
    expect(await exactNorm(layer.kernel, [6, 6])).toBeGreaterThan(1.5);
    await layer.afterStep(3);
    expect(Array.from(await layer.kernel.data())).toEqual(Array.from(before));
    await layer.afterStep(8);
    const sigma = await exactNorm(layer.kernel, [6, 6]);
    expect(sigma).toBeLessThan(1 + 1e-2);
    expect(sigma).toBeGreaterThan(0.9);
    const bound = await layer.lipschitzUpperBound([6, 6, 3]);
    expect(bound).toBeGreaterThanOrEqual(sigma * (1 - 1e-6));
    expect(bound).toBeLessThan(sigma * (1 + 1e-4));
    layer.dispose();
  });

  it("with a StepContext, projects on the reference trainer's schedule: batchInEpoch % projectEvery === 0 and the epoch's last batch", async () => {
    const layer = svcmConv2d({ inChannels: 2, outChannels: 2, kernelSize: 3, stride: 1, inputSize: [5, 5], projectEvery: 4, projections: 10, seed: 4 });
    const inner = layer as unknown as SvcmConv2d;
    const blowUp = () => inner.kernel.assign(tf.mul(inner.kernel, 3));
    const projected = async () => (await exactNorm(inner.kernel, [5, 5])) < 1.05;
    blowUp();
    await inner.afterStep(6, { batchInEpoch: 5, lastInEpoch: false }); // step 6 % 4 ≠ 0 and 5 % 4 ≠ 0: nothing
    expect(await projected()).toBe(false);
    await inner.afterStep(7, { batchInEpoch: 6, lastInEpoch: true }); // the epoch's last batch
    expect(await projected()).toBe(true);
    blowUp();
    await inner.afterStep(8, { batchInEpoch: 0, lastInEpoch: false }); // the first batch of the next epoch (0 % 4 = 0)
    expect(await projected()).toBe(true);
    blowUp();
    await inner.afterStep(12, { batchInEpoch: 3, lastInEpoch: false }); // step 12 % 4 = 0, but the context decides
    expect(await projected()).toBe(false);
    layer.dispose();
    // A strided module passes the context on to its inner layer.
    const strided = svcmConv2d({ inChannels: 1, outChannels: 4, kernelSize: 4, stride: 2, inputSize: [8, 8], projectEvery: 4, projections: 10, seed: 5 });
    const stridedInner = (strided as unknown as { inner: SvcmConv2d }).inner;
    stridedInner.kernel.assign(tf.mul(stridedInner.kernel, 6));
    await strided.afterStep?.(5, { batchInEpoch: 2, lastInEpoch: true });
    expect(await exactNorm(stridedInner.kernel, [4, 4])).toBeLessThan(1.05);
    strided.dispose();
  });

  it('stride 2: project() on the strided module clips the inner k/2 kernel at the downsampled size', async () => {
    const layer = svcmConv2d({ inChannels: 1, outChannels: 4, kernelSize: 4, stride: 2, inputSize: [8, 8], projections: 20, seed: 3 });
    const inner = (layer as unknown as { inner: SvcmConv2d }).inner;
    inner.kernel.assign(tf.mul(inner.kernel, 6));
    expect(await layer.lipschitzUpperBound([8, 8, 1])).toBeGreaterThan(1.5);
    await layer.project();
    const sigma = await exactNorm(inner.kernel, [4, 4]);
    expect(sigma).toBeLessThan(1 + 1e-2);
    const bound = await layer.lipschitzUpperBound([8, 8, 1]);
    expect(bound).toBeGreaterThanOrEqual(sigma * (1 - 1e-6));
    const exported = await layer.exportLayers([8, 8, 1]);
    expect(exported.map((l) => l.type)).toEqual(['invertibleDownsample', 'conv2d']);
    expect(layer.apply(seededNormal([2, 8, 8, 1], 1)).shape).toEqual([2, 4, 4, 4]);
    layer.dispose();
  });

  it('freeze caches the kernel; a projection while frozen refreshes the cache', async () => {
    const layer = svcmConv2d({ inChannels: 2, outChannels: 2, kernelSize: 2, inputSize: [4, 4], projections: 5, seed: 4 }) as SvcmConv2d;
    layer.kernel.assign(tf.mul(layer.kernel, 5));
    const x = seededNormal([1, 4, 4, 2], 2);
    const unfrozen = layer.apply(x);
    layer.freeze();
    await expectClose(layer.apply(x), unfrozen, { atol: 0 });
    await layer.project();
    expect(layer.frozen).toBe(true);
    await expectClose(layer.apply(x), tf.add(circularConv2d(x as tf.Tensor4D, layer.kernel as unknown as tf.Tensor4D), layer.bias!), { atol: 1e-6 });
    layer.unfreeze();
    layer.dispose();
    layer.dispose();
    await expect(layer.project()).rejects.toThrow(/^svcmConv2d.project: this object was disposed/);
  });

  it('does not leak (forward, gradient, projection)', async () => {
    const layer = svcmConv2d({ inChannels: 2, outChannels: 2, kernelSize: 3, projections: 2, seed: 5 }) as SvcmConv2d;
    const x = seededNormal([1, 4, 4, 2], 1);
    await expectNoLeaks(() => layer.apply(x));
    await expectNoLeaks(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(layer.apply(x)) as tf.Scalar, layer.trainableVariables);
      return [value, ...Object.values(grads)];
    });
    await expectNoLeaks(() => layer.project());
    layer.dispose();
  });

  it('records a size learned at the first apply in its config (strided: the outer size)', () => {
    const layer = svcmConv2d({ inChannels: 1, outChannels: 2, kernelSize: 2, stride: 2, seed: 1 });
    layer.apply(seededNormal([1, 4, 6, 1], 1)).dispose();
    expect(layer.config.options.inputSize).toEqual([4, 6]);
    expect((layer as unknown as { inner: SvcmConv2d }).inner.inputSize).toEqual([2, 3]);
    layer.dispose();
  });

  it('validates its options and needs the input size to project', async () => {
    expect(() => svcmConv2d({ inChannels: 1, outChannels: 1, kernelSize: 3, projectEvery: 0 })).toThrow(/^svcmConv2d: projectEvery must be a positive integer, got 0/);
    expect(() => svcmConv2d({ inChannels: 1, outChannels: 1, kernelSize: 3, projections: 1.5 })).toThrow(/^svcmConv2d: projections must be a positive integer, got 1.5/);
    expect(() => svcmConv2d({ inChannels: 1, outChannels: 1, kernelSize: 3, stride: 2 })).toThrow(/^svcmConv2d: kernelSize \(3\) must be a multiple of stride \(2\)/);
    const layer = svcmConv2d({ inChannels: 1, outChannels: 1, kernelSize: 3 }) as SvcmConv2d;
    try {
      await layer.project();
      expect.unreachable();
    } catch (e) {
      expect(LipschitzError.isInstance(e) && e.code).toBe('UNSUPPORTED_CONFIGURATION');
      expect((e as Error).message).toMatch(/^svcmConv2d.project: the input size is not known yet/);
    }
    expect(() => layer.afterStep(0)).toThrow(/^svcmConv2d.afterStep: step must be a positive integer/);
    layer.dispose();
  });
});
