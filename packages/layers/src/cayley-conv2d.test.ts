import { circularConv2d } from '@lipschitz/blockconv';
import { LipschitzError, decodeTensor } from '@lipschitz/core';
import { describeBackends, expectClose, expectNoLeaks, seededNormal } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { mapSingularValues } from '../test/helpers/conv-oracle';
import { type CayleyConv2d, type CayleyConv2dOptions, cayleyConv2d } from './cayley-conv2d';
import type { StridedConv } from './strided-conv';

/** Min and max of the nonzero-rank singular values of `layer` (bias off) on `[h, w, cin]`. */
async function extremeSingularValues(layer: { apply(x: tf.Tensor): tf.Tensor }, shape: number[], rank: number): Promise<[number, number]> {
  const sv = await mapSingularValues((x) => layer.apply(x), shape);
  return [sv[0], sv[rank - 1]];
}

describeBackends('cayleyConv2d', () => {
  for (const [cin, cout, k, h, w, what] of [
    [3, 3, 3, 4, 4, 'orthogonal (cin = cout)'],
    [2, 3, 2, 4, 5, 'isometry (cin < cout)'],
    [3, 2, 3, 5, 4, 'co-isometry (cin > cout)'],
  ] as const) {
    it(`is ${what}: every singular value within 1e-4 of 1 (${cin}→${cout}, k=${k}, ${h}×${w})`, async () => {
      const layer = cayleyConv2d({ inChannels: cin, outChannels: cout, kernelSize: k, bias: false, inputSize: [h, w], seed: 7 });
      const [max, min] = await extremeSingularValues(layer, [h, w, cin], h * w * Math.min(cin, cout));
      expect(Math.abs(max - 1)).toBeLessThan(1e-4);
      expect(Math.abs(min - 1)).toBeLessThan(1e-4);
      const bound = await layer.lipschitzUpperBound([h, w, cin]);
      expect(bound).toBeGreaterThanOrEqual(max * (1 - 1e-6));
      expect(bound).toBeLessThan(1 + 1e-4);
      layer.dispose();
    });
  }

  it('stays orthogonal after its parameters change (it is a parameterisation, not an init)', async () => {
    const layer = cayleyConv2d({ inChannels: 2, outChannels: 2, kernelSize: 3, bias: false, inputSize: [4, 4], seed: 1 }) as CayleyConv2d;
    layer.kernel.assign(seededNormal([3, 3, 2, 2], 9, 3));
    layer.alpha!.assign(tf.scalar(0.3));
    const [max, min] = await extremeSingularValues(layer, [4, 4, 2], 32);
    expect(Math.abs(max - 1)).toBeLessThan(1e-4);
    expect(Math.abs(min - 1)).toBeLessThan(1e-4);
    layer.dispose();
  });

  it('exports the equivalent full h×w circular conv2d (even and odd sizes) that reproduces apply', async () => {
    for (const [h, w] of [
      [4, 5],
      [5, 4],
    ]) {
      const layer = cayleyConv2d({ inChannels: 2, outChannels: 3, kernelSize: 3, inputSize: [h, w], seed: 2 });
      const [conv] = await layer.exportLayers([h, w, 2]);
      if (conv.type !== 'conv2d') throw new Error('expected conv2d');
      expect(conv.padding).toBe('circular');
      const kernel = decodeTensor(conv.kernel);
      expect(kernel.shape).toEqual([h, w, 2, 3]);
      const bias = decodeTensor(conv.bias!);
      const x = seededNormal([2, h, w, 2], 3);
      const viaExport = circularConv2d(x as tf.Tensor4D, tf.tensor4d(kernel.values, [h, w, 2, 3]), tf.tensor1d(bias.values));
      await expectClose(layer.apply(x), viaExport, { atol: 2e-5 });
      layer.dispose();
    }
  });

  it('gradients (kernel V and α) match finite differences', async () => {
    const layer = cayleyConv2d({ inChannels: 2, outChannels: 3, kernelSize: 2, inputSize: [3, 4], seed: 4 }) as CayleyConv2d;
    const x = seededNormal([1, 3, 4, 2], 5);
    const r = seededNormal([1, 3, 4, 3], 6);
    const loss = () => tf.sum(tf.mul(layer.apply(x), r)) as tf.Scalar;
    const alpha = layer.alpha!;
    alpha.assign(tf.mul(alpha, 0.7)); // off the initial point
    const { value, grads } = tf.variableGrads(loss, [layer.kernel, alpha]);
    value.dispose();
    const gKernel = await grads[layer.kernel.name].data();
    const gAlpha = (await grads[alpha.name].data())[0];
    tf.dispose(grads);
    const h = 1e-2;
    const check = async (variable: tf.Variable, index: number, analytic: number) => {
      const original = await variable.data();
      const at = async (delta: number) => {
        const moved = Float32Array.from(original);
        moved[index] += delta;
        variable.assign(tf.tensor(moved, variable.shape));
        return (await tf.tidy(loss).data())[0];
      };
      const fd = ((await at(h)) - (await at(-h))) / (2 * h);
      variable.assign(tf.tensor(original, variable.shape));
      expect(Math.abs(fd - analytic)).toBeLessThan(0.02 * Math.abs(analytic) + 2e-3);
    };
    let nonzero = 0;
    for (const i of [0, 5, 11, 17, 22]) {
      await check(layer.kernel, i, gKernel[i]);
      if (Math.abs(gKernel[i]) > 1e-2) nonzero++;
    }
    expect(nonzero).toBeGreaterThan(2);
    expect(Math.abs(gAlpha)).toBeGreaterThan(1e-3);
    await check(alpha, 0, gAlpha);
    layer.dispose();
  });

  it('stride 2: invertible downsampling then an orthogonal k/2 Cayley conv on 4·cin channels', async () => {
    const layer = cayleyConv2d({ inChannels: 1, outChannels: 4, kernelSize: 4, stride: 2, bias: false, inputSize: [6, 6], seed: 5 }) as StridedConv;
    expect(layer.outputShape([6, 6, 1])).toEqual([3, 3, 4]);
    const [max, min] = await extremeSingularValues(layer, [6, 6, 1], 36);
    expect(Math.abs(max - 1)).toBeLessThan(1e-4);
    expect(Math.abs(min - 1)).toBeLessThan(1e-4);
    const exported = await layer.exportLayers([6, 6, 1]);
    expect(exported[0]).toEqual({ type: 'invertibleDownsample', factor: 2 });
    if (exported[1].type !== 'conv2d') throw new Error('expected conv2d');
    expect(exported[1].kernel.shape).toEqual([3, 3, 4, 4]);
    expect(await layer.lipschitzUpperBound([6, 6, 1])).toBeGreaterThanOrEqual(max * (1 - 1e-6));
    layer.dispose();
  });

  it('freeze caches the transfer matrices (same output), unfreeze rebuilds them; no leaks', async () => {
    const layer = cayleyConv2d({ inChannels: 2, outChannels: 2, kernelSize: 3, seed: 6 }) as CayleyConv2d;
    const x = seededNormal([2, 4, 4, 2], 1);
    expect(layer.trainableVariables.length).toBe(2);
    await expectNoLeaks(() => layer.apply(x));
    expect(layer.inputSize).toEqual([4, 4]);
    expect(layer.trainableVariables.length).toBe(3); // α created at the first apply
    await expectNoLeaks(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(layer.apply(x)) as tf.Scalar, layer.trainableVariables);
      return [value, ...Object.values(grads)];
    });
    const unfrozen = layer.apply(x);
    layer.freeze();
    await expectClose(layer.apply(x), unfrozen, { atol: 1e-6 });
    await expectNoLeaks(() => layer.apply(x));
    layer.unfreeze();
    expect(layer.frozen).toBe(false);
    await expectNoLeaks(() => {
      layer.freeze();
      layer.unfreeze();
    });
    await expectNoLeaks(async () => {
      await layer.lipschitzUpperBound([4, 4, 2]);
    });
    layer.dispose();
    layer.dispose();
    expect(() => layer.apply(x)).toThrow(/^cayleyConv2d.apply: this object was disposed/);
  });

  it('records a size learned at the first apply in its config, so a rebuilt layer has the same variables', () => {
    const layer = cayleyConv2d({ inChannels: 1, outChannels: 4, kernelSize: 2, stride: 2, seed: 1 });
    expect(layer.variables.length).toBe(2);
    layer.apply(seededNormal([1, 6, 4, 1], 1)).dispose();
    expect(layer.config.options.inputSize).toEqual([6, 4]);
    const rebuilt = cayleyConv2d(layer.config.options as unknown as CayleyConv2dOptions);
    expect(rebuilt.variables.length).toBe(3);
    expect(rebuilt.variables.map((v) => v.shape)).toEqual(layer.variables.map((v) => v.shape));
    rebuilt.dispose();
    layer.dispose();
  });

  it('validates shapes and options with clear errors', () => {
    const layer = cayleyConv2d({ inChannels: 2, outChannels: 2, kernelSize: 3, inputSize: [4, 4] });
    expect(() => layer.apply(tf.zeros([1, 5, 5, 2]))).toThrow(/^cayleyConv2d.apply: this Cayley layer works at a fixed input size 4×4, got 5×5/);
    expect(() => layer.apply(tf.zeros([1, 4, 4, 3]))).toThrow(/^cayleyConv2d.apply: expected NHWC input with 2 channels/);
    layer.dispose();
    const lazy = cayleyConv2d({ inChannels: 1, outChannels: 1, kernelSize: 3 });
    expect(() => lazy.freeze()).toThrow(/^cayleyConv2d: the input size is not known yet/);
    expect(() => lazy.apply(tf.zeros([1, 2, 2, 1]))).toThrow(/must be at least as large as the kernel/);
    lazy.dispose();
    expect(() => cayleyConv2d({ inChannels: 1, outChannels: 1, kernelSize: 3, stride: 2 })).toThrow(/^cayleyConv2d: kernelSize \(3\) must be a multiple of stride \(2\)/);
    try {
      cayleyConv2d({ inChannels: 1, outChannels: 1, kernelSize: 2, stride: 2, inputSize: [5, 4] });
      expect.unreachable();
    } catch (e) {
      expect(LipschitzError.isInstance(e) && e.code).toBe('INVALID_ARGUMENT');
    }
  });
});
