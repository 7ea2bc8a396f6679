import { LipschitzError } from '@lipschitz/core';
import { denseMatrixOf, describeBackends, expectClose, expectNoLeaks, seededNormal, singularValuesOracle } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { type BcopConv2d, type LayerModule, type StridedConv, bcopConv2d } from './index';

/** All singular values (float64 oracle) of a frozen, bias-free layer at `inputShape`. */
async function exactSingularValues(layer: LayerModule, inputShape: number[]): Promise<number[]> {
  layer.freeze();
  const { values, rows, cols } = await denseMatrixOf((x) => layer.apply(x), inputShape);
  return singularValuesOracle(values, rows, cols).slice(0, Math.min(rows, cols));
}

function parameterCount(layer: LayerModule): number {
  return layer.trainableVariables.reduce((a, v) => a + v.size, 0);
}

describeBackends('bcopConv2d', () => {
  it('is orthogonal: every singular value within 1e-4 of 1 (square, isometry, co-isometry, strided)', async () => {
    for (const [options, inputShape] of [
      [{ inChannels: 4, outChannels: 4, kernelSize: 3 }, [4, 4, 4]],
      [{ inChannels: 2, outChannels: 4, kernelSize: 2 }, [4, 4, 2]],
      [{ inChannels: 4, outChannels: 2, kernelSize: 3 }, [4, 4, 4]],
      [{ inChannels: 1, outChannels: 4, kernelSize: 4, stride: 2 }, [8, 8, 1]],
    ] as const) {
      const layer = bcopConv2d({ ...options, bias: false, seed: 5 });
      const sv = await exactSingularValues(layer, [...inputShape]);
      expect(sv.length).toBeGreaterThan(0);
      for (const s of sv) expect(Math.abs(s - 1), layer.name).toBeLessThan(1e-4);
      const bound = await layer.lipschitzUpperBound([...inputShape]);
      expect(bound).toBeGreaterThanOrEqual(sv[0]);
      expect(bound).toBeLessThan(1 + 1e-4);
      layer.dispose();
    }
  });

  it('stays orthogonal with trained-like (non-orthogonal) parameters; the bound stays ≥ the exact σ_max', async () => {
    const layer = bcopConv2d({ inChannels: 3, outChannels: 3, kernelSize: 3, bias: false, seed: 1 }) as BcopConv2d;
    layer.params.assign(tf.add(layer.params, seededNormal(layer.params.shape, 7, 0.05)));
    const sv = await exactSingularValues(layer, [5, 5, 3]);
    for (const s of sv) expect(Math.abs(s - 1)).toBeLessThan(1e-4);
    expect(await layer.lipschitzUpperBound([5, 5, 3])).toBeGreaterThanOrEqual(sv[0]);
  });

  it('parameter count (2(k′−1)+1)·cmax² + cout; stride by invertible downsampling', async () => {
    const conv1 = bcopConv2d({ inChannels: 1, outChannels: 16, kernelSize: 4, stride: 2 });
    expect(parameterCount(conv1)).toBe(3 * 16 * 16 + 16);
    const conv2 = bcopConv2d({ inChannels: 16, outChannels: 32, kernelSize: 4, stride: 2 });
    expect(parameterCount(conv2)).toBe(3 * 64 * 64 + 32);
    const conv3 = bcopConv2d({ inChannels: 32, outChannels: 64, kernelSize: 3, bias: false });
    expect(parameterCount(conv3)).toBe(5 * 64 * 64);
    const inner = (conv2 as StridedConv).inner as BcopConv2d;
    expect([inner.inChannels, inner.outChannels, inner.kernelSize]).toEqual([64, 32, 2]);
    expect(conv2.outputShape([8, 8, 16])).toEqual([4, 4, 32]);
    expect(conv1.apply(tf.zeros([2, 8, 8, 1])).shape).toEqual([2, 4, 4, 16]);
    const exported = await conv1.exportLayers([8, 8, 1]);
    expect(exported.map((l) => l.type)).toEqual(['invertibleDownsample', 'conv2d']);
    for (const l of [conv1, conv2, conv3]) l.dispose();
  });

  it('init is seeded and the bias is U(±1/√cout)', async () => {
    const a = bcopConv2d({ inChannels: 2, outChannels: 4, kernelSize: 2, seed: 9 });
    const b = bcopConv2d({ inChannels: 2, outChannels: 4, kernelSize: 2, seed: 9 });
    const c = bcopConv2d({ inChannels: 2, outChannels: 4, kernelSize: 2, seed: 10 });
    const x = seededNormal([1, 4, 4, 2], 3);
    await expectClose(a.apply(x), b.apply(x), { atol: 0 });
    expect(Array.from(await a.apply(x).data())).not.toEqual(Array.from(await c.apply(x).data()));
    for (const v of await a.trainableVariables[1].data()) expect(Math.abs(v)).toBeLessThanOrEqual(0.5);
  });

  it('frozen output equals unfrozen; a frozen layer costs one convolution and no matMul', async () => {
    // the unrolled scheme (Björck-20 in every forward pass, the default before issue 14); the projected default: projected.test.ts
    const layer = bcopConv2d({ inChannels: 4, outChannels: 8, kernelSize: 4, stride: 2, seed: 2, orthogonalization: 'unrolled' });
    const x = seededNormal([2, 6, 6, 4], 4);
    const unfrozen = layer.apply(x);
    const before = await tf.profile(() => layer.apply(x));
    expect(before.kernels.filter((k) => k.name === 'BatchMatMul').length).toBeGreaterThan(20);
    layer.freeze();
    await expectClose(layer.apply(x), unfrozen, { atol: 1e-6 });
    const after = await tf.profile(() => layer.apply(x));
    // One convolution kernel (the bias is added by it: FusedConv2D), nothing else of weight.
    expect(after.kernels.filter((k) => k.name === 'Conv2D' || k.name === 'FusedConv2D').length).toBe(1);
    expect(after.kernels.filter((k) => k.name === 'Add').length).toBe(0);
    expect(after.kernels.filter((k) => k.name === 'BatchMatMul').length).toBe(0);
    layer.unfreeze();
    expect(layer.frozen).toBe(false);
  });

  it('gradients reach the parameters (unfrozen)', async () => {
    const layer = bcopConv2d({ inChannels: 2, outChannels: 2, kernelSize: 2 });
    const x = seededNormal([1, 4, 4, 2], 5);
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(layer.apply(x))) as tf.Scalar, layer.trainableVariables);
    value.dispose();
    for (const g of Object.values(grads)) expect((await tf.norm(g).data())[0]).toBeGreaterThan(0);
  });

  it('validators', () => {
    expect(() => bcopConv2d({ inChannels: 2, outChannels: 2, kernelSize: 3, stride: 2 })).toThrow(
      /bcopConv2d: kernelSize \(3\) must be a multiple of stride \(2\)/,
    );
    expect(() => bcopConv2d({ inChannels: 0, outChannels: 2, kernelSize: 3 })).toThrow(/bcopConv2d: inChannels must be a positive integer, got 0/);
    expect(() => bcopConv2d({ inChannels: 2, outChannels: 2, kernelSize: 3, iterations: 0 })).toThrow(/bcopConv2d: iterations must be a positive integer/);
    expect(() => bcopConv2d({ inChannels: 2, outChannels: 2, kernelSize: 2, inputSize: [5, 4], stride: 2 })).toThrow(/bcopConv2d: inputSize \[5, 4\] must be a multiple of the stride 2/);
    const layer = bcopConv2d({ inChannels: 2, outChannels: 2, kernelSize: 2, stride: 2 });
    expect(() => layer.apply(tf.zeros([1, 5, 4, 2]))).toThrow(/bcopConv2d.apply: the input height and width \(5×4\) must be multiples of the stride 2/);
    expect(() => layer.apply(tf.zeros([1, 4, 4, 3]))).toThrow(LipschitzError);
    layer.dispose();
    layer.dispose();
    expect(() => layer.apply(tf.zeros([1, 4, 4, 2]))).toThrow(/bcopConv2d.apply: this object was disposed/);
  });

  it('no leaks (apply, gradient, frozen apply, bound, export)', async () => {
    const layer = bcopConv2d({ inChannels: 2, outChannels: 4, kernelSize: 4, stride: 2 });
    const x = seededNormal([2, 4, 4, 2], 6);
    await expectNoLeaks(() => layer.apply(x));
    await expectNoLeaks(() => tf.variableGrads(() => tf.sum(layer.apply(x)) as tf.Scalar, layer.trainableVariables));
    await expectNoLeaks(() => layer.lipschitzUpperBound([4, 4, 2]));
    await expectNoLeaks(() => layer.exportLayers([4, 4, 2]));
    await expectNoLeaks(() => {
      layer.freeze();
      const y = layer.apply(x);
      layer.unfreeze();
      return y;
    });
  });
});
