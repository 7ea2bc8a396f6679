import { circularConv2d } from '@lipschitz/blockconv';
import { LipschitzError, decodeTensor } from '@lipschitz/core';
import { describeBackends, expectClose, expectNoLeaks, seededNormal } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { mapSingularValues } from '../test/helpers/conv-oracle';
import type { StridedConv } from './strided-conv';
import { type OssnConv2d, type OssnConv2dOptions, ossnConv2d } from './ossn-conv2d';

/** Runs `steps` training forwards (each one `powerIterations` rounds) with gradients, as a loop would. */
function trainForwards(layer: { apply(x: tf.Tensor): tf.Tensor; trainableVariables: tf.Variable[] }, x: tf.Tensor, steps: number): void {
  for (let i = 0; i < steps; i++) {
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(layer.apply(x))) as tf.Scalar, layer.trainableVariables);
    value.dispose();
    tf.dispose(grads);
  }
}

describeBackends('ossnConv2d', () => {
  for (const k of [2, 3, 4]) {
    it(`normalises to exact σ_max ≈ 1 after training forwards (k = ${k}), and the bound is ≥ the exact norm`, async () => {
      const layer = ossnConv2d({ inChannels: 3, outChannels: 4, kernelSize: k, bias: false, inputSize: [6, 6], seed: k }) as OssnConv2d;
      const raw = await mapSingularValues((z) => circularConv2d(z as tf.Tensor4D, layer.kernel as unknown as tf.Tensor4D), [6, 6, 3]);
      expect(raw[0]).toBeGreaterThan(1.05); // PyTorch init gives ‖K‖ > 1 here, so the scaling is active
      trainForwards(layer, seededNormal([2, 6, 6, 3], 1), 4);
      layer.freeze();
      const sv = await mapSingularValues((z) => layer.apply(z), [6, 6, 3]);
      expect(sv[0]).toBeLessThan(1 + 1e-3);
      expect(sv[0]).toBeGreaterThan(1 - 1e-3);
      const bound = await layer.lipschitzUpperBound([6, 6, 3]);
      expect(bound).toBeGreaterThanOrEqual(sv[0] * (1 - 1e-6));
      expect(bound).toBeLessThan(sv[0] * (1 + 1e-4));
      layer.dispose();
    });
  }

  it('gradient of the scaled layer matches finite differences (σ̂ differentiated through the kernel)', async () => {
    const layer = ossnConv2d({ inChannels: 2, outChannels: 2, kernelSize: 2, bias: false, inputSize: [4, 4], powerIterations: 30, seed: 3 }) as OssnConv2d;
    const x = seededNormal([1, 4, 4, 2], 5);
    const r = seededNormal([1, 4, 4, 2], 6);
    const loss = () => tf.sum(tf.mul(layer.apply(x), r)) as tf.Scalar;
    layer.kernel.assign(tf.mul(layer.kernel, 4)); // ‖K‖ > 1, so factor = σ̂ (the max is on σ̂'s side)
    trainForwards(layer, x, 3);
    const { value, grads } = tf.variableGrads(loss, [layer.kernel]);
    value.dispose();
    const analytic = await grads[layer.kernel.name].data();
    tf.dispose(grads);
    // The same gradient with the factor treated as a constant must differ (so the check can fail).
    const factorConstant = await tf.tidy(() => {
      const w = layer.kernel as unknown as tf.Tensor4D;
      return tf.grad((kernel: tf.Tensor) => tf.sum(tf.mul(circularConv2d(x as tf.Tensor4D, kernel as tf.Tensor4D), r)))(w);
    }).data();
    const original = await layer.kernel.data();
    const rawNorm = (await mapSingularValues((z) => circularConv2d(z as tf.Tensor4D, layer.kernel as unknown as tf.Tensor4D), [4, 4, 2]))[0];
    expect(rawNorm).toBeGreaterThan(1.2);
    const factorValue = rawNorm;
    const h = 2e-2;
    let worst = 0;
    let scale = 0;
    let differsFromConstant = 0;
    for (const i of [0, 3, 5, 9, 14]) {
      const evaluate = async (delta: number) => {
        const moved = Float32Array.from(original);
        moved[i] += delta;
        layer.kernel.assign(tf.tensor(moved, layer.kernel.shape));
        trainForwards(layer, x, 2); // re-converge u at the moved kernel
        return (await tf.tidy(loss).data())[0];
      };
      const fd = ((await evaluate(h)) - (await evaluate(-h))) / (2 * h);
      worst = Math.max(worst, Math.abs(fd - analytic[i]));
      scale = Math.max(scale, Math.abs(analytic[i]));
      differsFromConstant = Math.max(differsFromConstant, Math.abs(analytic[i] - factorConstant[i] / factorValue));
    }
    layer.kernel.assign(tf.tensor(original, layer.kernel.shape));
    expect(worst).toBeLessThan(0.03 * scale + 1e-3);
    expect(differsFromConstant).toBeGreaterThan(0.1 * scale);
    layer.dispose();
  });

  it('stride 2: invertible downsampling then a k/2 OSSN; export = [invertibleDownsample, circular conv2d]', async () => {
    const layer = ossnConv2d({ inChannels: 1, outChannels: 4, kernelSize: 4, stride: 2, inputSize: [8, 8], seed: 2 }) as StridedConv;
    expect(layer.outputShape([8, 8, 1])).toEqual([4, 4, 4]);
    const x = seededNormal([2, 8, 8, 1], 3);
    trainForwards(layer, x, 3);
    layer.freeze();
    const y = layer.apply(x);
    expect(y.shape).toEqual([2, 4, 4, 4]);
    const [down, conv] = await layer.exportLayers([8, 8, 1]);
    expect(down).toEqual({ type: 'invertibleDownsample', factor: 2 });
    if (conv.type !== 'conv2d') throw new Error('expected conv2d');
    expect(conv.padding).toBe('circular');
    const kernel = decodeTensor(conv.kernel);
    expect(kernel.shape).toEqual([2, 2, 4, 4]);
    const bias = decodeTensor(conv.bias!);
    const inner = (z: tf.Tensor) => {
      const d = tf.reshape(tf.transpose(tf.reshape(z, [z.shape[0], 4, 2, 4, 2]), [0, 1, 3, 2, 4]), [z.shape[0], 4, 4, 4]);
      return circularConv2d(d as tf.Tensor4D, tf.tensor4d(kernel.values, kernel.shape as [number, number, number, number]));
    };
    await expectClose(y, tf.add(inner(x), tf.tensor(bias.values)), { atol: 1e-5 });
    const sv = await mapSingularValues(inner, [8, 8, 1]);
    expect(sv[0]).toBeLessThan(1 + 1e-3);
    expect(await layer.lipschitzUpperBound([8, 8, 1])).toBeGreaterThanOrEqual(sv[0] * (1 - 1e-6));
    layer.dispose();
  });

  it('frozen: reuses the stored factor (no iterations), equals the training forward once converged', async () => {
    const layer = ossnConv2d({ inChannels: 2, outChannels: 3, kernelSize: 3, inputSize: [5, 5], seed: 4 }) as OssnConv2d;
    const x = seededNormal([2, 5, 5, 2], 7);
    trainForwards(layer, x, 5);
    layer.freeze();
    layer.freeze();
    expect(layer.frozen).toBe(true);
    const frozen1 = layer.apply(x);
    const frozen2 = layer.apply(x);
    await expectClose(frozen1, frozen2, { atol: 0 });
    // a frozen layer accepts other sizes (the kernel is spatial)
    expect(layer.apply(seededNormal([1, 7, 7, 2], 1)).shape).toEqual([1, 7, 7, 3]);
    layer.unfreeze();
    expect(layer.frozen).toBe(false);
    await expectClose(layer.apply(x), frozen1, { atol: 1e-5 });
    layer.dispose();
    layer.dispose();
    expect(() => layer.apply(x)).toThrow(/^ossnConv2d.apply: this object was disposed/);
  });

  it('learns the input size at the first apply and does not leak (forward and gradient)', async () => {
    const layer = ossnConv2d({ inChannels: 2, outChannels: 2, kernelSize: 2, seed: 5 }) as OssnConv2d;
    expect(layer.inputSize).toBeNull();
    expect(() => layer.freeze()).toThrow(/^ossnConv2d.freeze: the spectral-norm factor is not known yet/);
    const x = seededNormal([1, 4, 4, 2], 1);
    await expectNoLeaks(() => layer.apply(x));
    expect(layer.inputSize).toEqual([4, 4]);
    expect(layer.trainableVariables.length).toBe(2);
    await expectNoLeaks(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(layer.apply(x)) as tf.Scalar, layer.trainableVariables);
      return [value, ...Object.values(grads)];
    });
    expect(() => layer.apply(seededNormal([1, 6, 6, 2], 1))).toThrow(/^ossnConv2d.apply: this OSSN layer's power-iteration vector was built for 4×4 inputs, got 6×6/);
    layer.dispose();
  });

  it('records a size learned at the first apply in its config, so a rebuilt layer has the same variables', () => {
    const layer = ossnConv2d({ inChannels: 1, outChannels: 2, kernelSize: 4, stride: 2, seed: 1 });
    expect(layer.variables.length).toBe(2);
    layer.apply(seededNormal([1, 8, 6, 1], 1)).dispose();
    expect(layer.config.options.inputSize).toEqual([8, 6]);
    const rebuilt = ossnConv2d(layer.config.options as unknown as OssnConv2dOptions);
    expect(rebuilt.variables.map((v) => v.shape)).toEqual(layer.variables.map((v) => v.shape));
    expect(rebuilt.variables.length).toBe(4);
    rebuilt.dispose();
    layer.dispose();
  });

  it('validates its options', () => {
    expect(() => ossnConv2d({ inChannels: 1, outChannels: 2, kernelSize: 3, powerIterations: 0 })).toThrow(
      /^ossnConv2d: powerIterations must be a positive integer, got 0/,
    );
    expect(() => ossnConv2d({ inChannels: 1, outChannels: 2, kernelSize: 3, stride: 2 })).toThrow(/^ossnConv2d: kernelSize \(3\) must be a multiple of stride \(2\)/);
    expect(() => ossnConv2d({ inChannels: 0, outChannels: 2, kernelSize: 3 })).toThrow(/^ossnConv2d: inChannels must be a positive integer/);
    try {
      ossnConv2d({ inChannels: 1, outChannels: 1, kernelSize: 3, inputSize: [2, 2] });
      expect.unreachable();
    } catch (e) {
      expect(LipschitzError.isInstance(e) && e.code).toBe('SHAPE_MISMATCH');
    }
  });
});
