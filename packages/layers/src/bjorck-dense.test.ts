import { denseMatrixOf, describeBackends, expectClose, expectNoLeaks, seededNormal, singularValuesOracle } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { type BjorckDense, bjorckDense, plainDense } from './index';

describeBackends('bjorckDense', () => {
  it('is orthogonal (square), an isometry or co-isometry (rectangular); bound ≥ exact σ_max', async () => {
    for (const [inputs, outputs] of [
      [12, 12],
      [20, 6],
      [5, 9],
    ]) {
      const layer = bjorckDense({ inputs, outputs, bias: false, seed: inputs });
      const { values, rows, cols } = await denseMatrixOf((x) => layer.apply(x), [inputs]);
      const sv = singularValuesOracle(values, rows, cols).slice(0, Math.min(rows, cols));
      for (const s of sv) expect(Math.abs(s - 1)).toBeLessThan(1e-4);
      const bound = await layer.lipschitzUpperBound([inputs]);
      expect(bound).toBeGreaterThanOrEqual(sv[0]);
      expect(bound).toBeLessThan(sv[0] + 1e-5);
      layer.dispose();
    }
  });

  it('unrolled: stays orthonormal after the weight is perturbed (Björck runs every forward)', async () => {
    const layer = bjorckDense({ inputs: 8, outputs: 8, bias: false, orthogonalization: 'unrolled' }) as BjorckDense;
    layer.weight.assign(tf.add(layer.weight, seededNormal([8, 8], 4, 0.05)));
    const { values, rows, cols } = await denseMatrixOf((x) => layer.apply(x), [8]);
    const sv = singularValuesOracle(values, rows, cols);
    expect(Math.abs(sv[0] - 1)).toBeLessThan(1e-4);
    expect(Math.abs(sv[7] - 1)).toBeLessThan(1e-4);
    expect(await layer.lipschitzUpperBound([8])).toBeGreaterThanOrEqual(sv[0]);
    layer.dispose();
  });

  it('projected: after a manual perturbation the bound covers the unfrozen (rescaling) forward, and afterStep brings it back', async () => {
    const layer = bjorckDense({ inputs: 8, outputs: 8, bias: false }) as BjorckDense;
    expect(layer.orthogonalization).toBe('projected');
    layer.weight.assign(tf.add(layer.weight, seededNormal([8, 8], 4, 0.05)));
    const off = await denseMatrixOf((x) => layer.apply(x), [8]);
    const svOff = singularValuesOracle(off.values, off.rows, off.cols);
    expect(svOff[0]).toBeGreaterThan(1.01); // the training forward is off the manifold ...
    expect(await layer.lipschitzUpperBound([8])).toBeGreaterThanOrEqual(svOff[0]); // ... and the bound says so
    layer.freeze(); // the frozen (exported) function is the full projection, bounded by ~1
    const frozen = await denseMatrixOf((x) => layer.apply(x), [8]);
    const svFrozen = singularValuesOracle(frozen.values, frozen.rows, frozen.cols);
    const frozenBound = await layer.lipschitzUpperBound([8]);
    expect(frozenBound).toBeGreaterThanOrEqual(svFrozen[0]);
    expect(frozenBound).toBeLessThan(1 + 1e-5);
    layer.unfreeze();
    for (let step = 1; step <= 4; step++) layer.afterStep(step);
    const back = await denseMatrixOf((x) => layer.apply(x), [8]);
    const svBack = singularValuesOracle(back.values, back.rows, back.cols);
    for (const s of svBack) expect(Math.abs(s - 1)).toBeLessThan(1e-5);
    expect(await layer.lipschitzUpperBound([8])).toBeGreaterThanOrEqual(svBack[0]);
    layer.dispose();
  });

  it('init: orthogonal with gain 1/√in, bias within ±1/√in, seeded', async () => {
    const a = bjorckDense({ inputs: 16, outputs: 4, seed: 3 }) as BjorckDense;
    const b = bjorckDense({ inputs: 16, outputs: 4, seed: 3 }) as BjorckDense;
    const c = bjorckDense({ inputs: 16, outputs: 4, seed: 4 }) as BjorckDense;
    await expectClose(a.weight, b.weight, { atol: 0 });
    expect(Array.from(await a.weight.data())).not.toEqual(Array.from(await c.weight.data()));
    const sv = singularValuesOracle(await a.weight.data(), 16, 4);
    for (const s of sv) expect(s).toBeCloseTo(1 / 4, 6);
    const bias = await a.bias!.data();
    expect(bias.length).toBe(4);
    for (const v of bias) expect(Math.abs(v)).toBeLessThanOrEqual(1 / 4);
    expect(a.trainableVariables.length).toBe(2);
    expect(bjorckDense({ inputs: 3, outputs: 2, bias: false }).trainableVariables.length).toBe(1);
  });

  it('unrolled: frozen output equals unfrozen; frozen apply is one matMul', async () => {
    const layer = bjorckDense({ inputs: 10, outputs: 6, seed: 1, orthogonalization: 'unrolled' });
    const x = seededNormal([3, 10], 5);
    const unfrozen = layer.apply(x);
    layer.freeze();
    expect(layer.frozen).toBe(true);
    await expectClose(layer.apply(x), unfrozen, { atol: 1e-6 });
    const profile = await tf.profile(() => layer.apply(x));
    expect(profile.kernels.filter((k) => k.name === 'BatchMatMul').length).toBe(1);
    layer.unfreeze();
    expect(layer.frozen).toBe(false);
    const again = await tf.profile(() => layer.apply(x));
    expect(again.kernels.filter((k) => k.name === 'BatchMatMul').length).toBeGreaterThan(10);
  });

  it('exports its orthonormalized weight', async () => {
    const layer = bjorckDense({ inputs: 4, outputs: 2, seed: 2 });
    const [exported] = await layer.exportLayers([4]);
    expect(exported.type).toBe('dense');
    if (exported.type !== 'dense') return;
    expect(exported.weight.shape).toEqual([4, 2]);
    expect(exported.bias?.shape).toEqual([2]);
  });

  it('plainDense: PyTorch-like init; bound is the exact σ_max of W', async () => {
    const layer = plainDense({ inputs: 9, outputs: 5, bias: false, seed: 7 });
    const w = await layer.trainableVariables[0].data();
    for (const v of w) expect(Math.abs(v)).toBeLessThanOrEqual(1 / 3);
    const { values, rows, cols } = await denseMatrixOf((x) => layer.apply(x), [9]);
    const sv = singularValuesOracle(values, rows, cols);
    const bound = await layer.lipschitzUpperBound([9]);
    expect(bound).toBeGreaterThanOrEqual(sv[0]);
    expect(bound).toBeLessThan(sv[0] * (1 + 1e-9));
  });

  it('validators', () => {
    expect(() => bjorckDense({ inputs: 0, outputs: 2 })).toThrow(/bjorckDense: inputs must be a positive integer, got 0/);
    expect(() => bjorckDense({ inputs: 2, outputs: 2.5 })).toThrow(/bjorckDense: outputs must be a positive integer/);
    expect(() => bjorckDense({ inputs: 2, outputs: 2, seed: 0.5 })).toThrow(/bjorckDense: seed must be an integer/);
    expect(() => plainDense(null as never)).toThrow(/plainDense: options must be an object/);
    const layer = bjorckDense({ inputs: 3, outputs: 2 });
    expect(() => layer.apply(tf.zeros([1, 4]))).toThrow(/bjorckDense.apply: expected input shape \[batch, 3\], got \[batch, 4\]/);
    layer.dispose();
    layer.dispose();
    expect(() => layer.apply(tf.zeros([1, 3]))).toThrow(/bjorckDense.apply: this object was disposed/);
  });

  it('no leaks (apply, gradient, frozen, bound, export)', async () => {
    const layer = bjorckDense({ inputs: 6, outputs: 4 });
    const x = seededNormal([2, 6], 1);
    await expectNoLeaks(() => layer.apply(x));
    await expectNoLeaks(() => tf.variableGrads(() => tf.sum(layer.apply(x)) as tf.Scalar, layer.trainableVariables));
    await expectNoLeaks(() => layer.lipschitzUpperBound([6]));
    await expectNoLeaks(() => layer.exportLayers([6]));
    await expectNoLeaks(() => {
      layer.freeze();
      const y = layer.apply(x);
      layer.unfreeze();
      return y;
    });
  });
});
