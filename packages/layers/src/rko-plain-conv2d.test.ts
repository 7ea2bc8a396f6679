import { decodeTensor } from '@lipschitz/core';
import { denseMatrixOf, describeBackends, expectClose, expectNoLeaks, seededNormal, singularValuesOracle } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { type LayerModule, type PlainConv2d, type RkoConv2d, plainConv2d, rkoConv2d } from './index';

async function exactSingularValues(layer: LayerModule, inputShape: number[]): Promise<number[]> {
  layer.freeze();
  const { values, rows, cols } = await denseMatrixOf((x) => layer.apply(x), inputShape);
  return singularValuesOracle(values, rows, cols).slice(0, Math.min(rows, cols));
}

describeBackends('rkoConv2d', () => {
  it('σ_max ≤ 1 (exact oracle) and the bound is ≥ the exact σ_max', async () => {
    for (const [options, inputShape] of [
      [{ inChannels: 3, outChannels: 4, kernelSize: 3 }, [5, 5, 3]],
      [{ inChannels: 2, outChannels: 2, kernelSize: 4, stride: 2 }, [6, 6, 2]],
      [{ inChannels: 4, outChannels: 2, kernelSize: 1 }, [3, 3, 4]],
    ] as const) {
      const layer = rkoConv2d({ ...options, bias: false, seed: 3 });
      const sv = await exactSingularValues(layer, [...inputShape]);
      expect(sv[0]).toBeLessThanOrEqual(1 + 1e-5);
      const bound = await layer.lipschitzUpperBound([...inputShape]);
      expect(bound).toBeGreaterThanOrEqual(sv[0]);
      expect(bound).toBeLessThan(sv[0] + 1e-5);
      layer.dispose();
    }
  });

  it('kernel = reshape(bjorck(W)) / k: the reshaped matrix is orthonormal', async () => {
    const layer = rkoConv2d({ inChannels: 2, outChannels: 3, kernelSize: 3, bias: false }) as RkoConv2d;
    const [exported] = await layer.exportLayers([4, 4, 2]);
    if (exported.type !== 'conv2d') throw new Error('expected conv2d');
    const { values } = decodeTensor(exported.kernel);
    const scaled = Array.from(values, (v) => v * 3);
    const sv = singularValuesOracle(scaled, 18, 3);
    for (const s of sv.slice(0, 3)) expect(Math.abs(s - 1)).toBeLessThan(1e-4);
    expect(layer.trainableVariables.reduce((a, v) => a + v.size, 0)).toBe(18 * 3);
  });

  it('frozen equals unfrozen; no leaks', async () => {
    const layer = rkoConv2d({ inChannels: 2, outChannels: 2, kernelSize: 2 });
    const x = seededNormal([2, 4, 4, 2], 1);
    const y = layer.apply(x);
    layer.freeze();
    await expectClose(layer.apply(x), y, { atol: 1e-6 });
    layer.unfreeze();
    await expectNoLeaks(() => layer.apply(x));
    await expectNoLeaks(() => tf.variableGrads(() => tf.sum(layer.apply(x)) as tf.Scalar, layer.trainableVariables));
    await expectNoLeaks(() => layer.lipschitzUpperBound([4, 4, 2]));
  });

  it('validators', () => {
    expect(() => rkoConv2d({ inChannels: 2, outChannels: 2, kernelSize: 3, stride: 2 })).toThrow(/rkoConv2d: kernelSize \(3\) must be a multiple of stride \(2\)/);
    expect(() => rkoConv2d({ inChannels: 2, outChannels: 2, kernelSize: 3, orthogonalizer: null as never })).toThrow(/rkoConv2d: orthogonalizer must be/);
  });
});

describeBackends('plainConv2d', () => {
  it('bound ≥ exact σ_max for circular, zero-same and valid padding (tight for circular)', async () => {
    for (const padding of ['circular', 'zero-same', 'valid'] as const) {
      for (const kernelSize of [2, 3]) {
        const layer = plainConv2d({ inChannels: 2, outChannels: 3, kernelSize, padding, bias: false, seed: kernelSize });
        const sv = await exactSingularValues(layer, [5, 5, 2]);
        const bound = await layer.lipschitzUpperBound([5, 5, 2]);
        expect(bound, `${padding} k=${kernelSize}`).toBeGreaterThanOrEqual(sv[0]);
        if (padding === 'circular') expect(bound).toBeLessThan(sv[0] * (1 + 1e-6));
        layer.dispose();
      }
    }
  });

  it('zero-same matches tf.conv2d same; valid shrinks; PyTorch-like init; strided', async () => {
    const layer = plainConv2d({ inChannels: 2, outChannels: 3, kernelSize: 3, padding: 'zero-same', seed: 1 }) as PlainConv2d;
    const x = seededNormal([1, 5, 5, 2], 2);
    const expected = tf.add(tf.conv2d(x as tf.Tensor4D, layer.kernel as unknown as tf.Tensor4D, 1, 'same'), layer.bias!);
    await expectClose(layer.apply(x), expected, { atol: 1e-6 });
    for (const v of await layer.kernel.data()) expect(Math.abs(v)).toBeLessThanOrEqual(1 / Math.sqrt(18));
    const valid = plainConv2d({ inChannels: 2, outChannels: 3, kernelSize: 3, padding: 'valid' });
    expect(valid.apply(x).shape).toEqual([1, 3, 3, 3]);
    expect(valid.outputShape([5, 5, 2])).toEqual([3, 3, 3]);
    const strided = plainConv2d({ inChannels: 1, outChannels: 4, kernelSize: 4, stride: 2 });
    expect(strided.apply(tf.zeros([1, 8, 8, 1])).shape).toEqual([1, 4, 4, 4]);
    expect(() => plainConv2d({ inChannels: 1, outChannels: 1, kernelSize: 1, padding: 'reflect' as never })).toThrow(/plainConv2d: padding must be one of/);
  });
});
