import { LipschitzError } from '@lipschitz/core';
import * as lip from '@lipschitz/layers';
import { REFERENCE_BJORCK } from '@lipschitz/orthogonalize';
import { denseMatrixOf, describeBackends, expectClose, seededNormal, seededUniform, singularValuesOracle } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { expect, it, vi } from 'vitest';

/** The reference Björck with a fixed power-iteration start, so both packages compute bit-identical kernels. */
const SEEDED_BJORCK = { ...REFERENCE_BJORCK, seed: 5 } as const;
import { BcopConv2d, bcopConv2d, bjorckDense, circularPad, groupSort, invertibleDownsample, maxMin, ossnConv2d, rkoConv2d } from './index';

/** A one-layer model around `layer` for inputs of `inputShape`. */
function wrap(layer: tfl.layers.Layer, inputShape: number[]): tfl.Sequential {
  const model = tfl.sequential();
  model.add(tfl.layers.inputLayer({ inputShape }));
  model.add(layer);
  return model;
}

/** Sets the (single-matrix or stacked) parameters of both layers to the same values. */
function sameWeights(ours: tfl.layers.Layer, theirs: tf.Variable[]): void {
  ours.setWeights(theirs.map((v) => v.clone()));
}

/** All singular values (float64 oracle) of a bias-free one-layer model at `inputShape`. */
async function exactSingularValues(model: tfl.LayersModel, inputShape: number[]): Promise<number[]> {
  const { values, rows, cols } = await denseMatrixOf((x) => model.predict(x) as tf.Tensor, inputShape);
  return singularValuesOracle(values, rows, cols).slice(0, Math.min(rows, cols));
}

describeBackends('tfjs layers', () => {
  it('bcopConv2d: the same initial weights and outputs as @lipschitz/layers (stride 2, default orthogonalizer)', async () => {
    const theirs = lip.bcopConv2d({ inChannels: 2, outChannels: 6, kernelSize: 4, stride: 2, seed: 3 });
    const model = wrap(bcopConv2d({ filters: 6, kernelSize: 4, strides: 2, seed: 3 }), [8, 8, 2]);
    // Same seed → same initial values, without copying anything.
    const ours = model.layers[model.layers.length - 1].getWeights();
    expect(ours.length).toBe(theirs.variables.length);
    for (let i = 0; i < ours.length; i++) await expectClose(ours[i], theirs.variables[i], { atol: 0 });
    const x = seededNormal([3, 8, 8, 2], 1);
    const y = model.predict(x) as tf.Tensor;
    expect(y.shape).toEqual([3, 4, 4, 6]);
    await expectClose(y, theirs.apply(x), { atol: 1e-6 });
    theirs.dispose();
    model.dispose();
  });

  it('bcopConv2d, rkoConv2d, bjorckDense: equal to @lipschitz/layers on the same (perturbed) weights, explicit orthogonalizer', async () => {
    const cases: [lip.LayerModule, tfl.layers.Layer, number[]][] = [
      [
        lip.bcopConv2d({ inChannels: 3, outChannels: 3, kernelSize: 3, seed: 1, orthogonalizer: SEEDED_BJORCK }),
        bcopConv2d({ filters: 3, kernelSize: 3, seed: 9, orthogonalizer: SEEDED_BJORCK }),
        [5, 5, 3],
      ],
      [
        lip.rkoConv2d({ inChannels: 2, outChannels: 4, kernelSize: 2, stride: 2, seed: 2, orthogonalizer: SEEDED_BJORCK }),
        rkoConv2d({ filters: 4, kernelSize: 2, strides: 2, seed: 9, orthogonalizer: SEEDED_BJORCK }),
        [4, 4, 2],
      ],
      [lip.bjorckDense({ inputs: 12, outputs: 5, seed: 3, orthogonalizer: SEEDED_BJORCK }), bjorckDense({ units: 5, seed: 9, orthogonalizer: SEEDED_BJORCK }), [12]],
    ];
    for (const [theirs, layer, inputShape] of cases) {
      const model = wrap(layer, inputShape);
      // Trained-like weights: not on the orthogonal manifold.
      for (const [i, v] of theirs.variables.entries()) v.assign(tf.add(v, seededNormal(v.shape, 20 + i, 0.05)));
      sameWeights(layer, theirs.variables);
      const x = seededNormal([2, ...inputShape], 4);
      await expectClose(model.predict(x) as tf.Tensor, theirs.apply(x), { atol: 1e-6 });
      // Training mode (no cache) computes the same.
      await expectClose(model.apply(x, { training: true }) as tf.Tensor, theirs.apply(x), { atol: 1e-6 });
      theirs.dispose();
      model.dispose();
    }
  });

  it('orthogonal against the float64 oracle: every singular value within 1e-4 of 1 (BCOP square, isometry, strided; Björck dense)', async () => {
    for (const [layer, inputShape] of [
      [bcopConv2d({ filters: 4, kernelSize: 3, useBias: false, seed: 5 }), [4, 4, 4]],
      [bcopConv2d({ filters: 4, kernelSize: 2, useBias: false, seed: 6 }), [4, 4, 2]],
      [bcopConv2d({ filters: 4, kernelSize: 4, strides: 2, useBias: false, seed: 7 }), [8, 8, 1]],
      [bjorckDense({ units: 6, useBias: false, seed: 8 }), [6]],
    ] as const) {
      const model = wrap(layer, [...inputShape]);
      // Perturb the parameters so that the orthogonalizer has work to do.
      model.setWeights(model.getWeights().map((w, i) => tf.add(w, seededNormal(w.shape, 30 + i, 0.02))));
      const sv = await exactSingularValues(model, [...inputShape]);
      expect(sv.length).toBeGreaterThan(0);
      for (const s of sv) expect(Math.abs(s - 1), layer.name).toBeLessThan(1e-4);
      model.dispose();
    }
  });

  it('ossnConv2d: same initial weights (u and factor non-trainable) and the same training and eval outputs as @lipschitz/layers', async () => {
    const theirs = lip.ossnConv2d({ inChannels: 2, outChannels: 4, kernelSize: 4, stride: 2, seed: 4, inputSize: [8, 8] });
    const layer = ossnConv2d({ filters: 4, kernelSize: 4, strides: 2, seed: 4 });
    const model = wrap(layer, [8, 8, 2]);
    expect(layer.trainableWeights.map((w) => w.shape)).toEqual([[2, 2, 8, 4], [4]]);
    expect(layer.nonTrainableWeights.map((w) => w.shape)).toEqual([[1, 4, 4, 4], []]);
    const ours = layer.getWeights();
    expect(ours.length).toBe(theirs.variables.length);
    for (let i = 0; i < ours.length; i++) await expectClose(ours[i], theirs.variables[i], { atol: 1e-6 });
    const x = seededNormal([2, 8, 8, 2], 6);
    // Two training forwards (each runs the power iteration and updates u), then evaluation.
    for (let round = 0; round < 2; round++) {
      await expectClose(model.apply(x, { training: true }) as tf.Tensor, theirs.apply(x), { atol: 1e-5 });
    }
    theirs.freeze();
    await expectClose(model.predict(x) as tf.Tensor, theirs.apply(x), { atol: 1e-5 });
    await expectClose(layer.getWeights()[3], theirs.variables[3], { atol: 1e-6 });
    theirs.dispose();
    model.dispose();
  });

  it('rkoConv2d is 1-Lipschitz (σ_max ≤ 1 + 1e-5 by the oracle)', async () => {
    const model = wrap(rkoConv2d({ filters: 3, kernelSize: 3, useBias: false, seed: 2 }), [5, 5, 3]);
    const sv = await exactSingularValues(model, [5, 5, 3]);
    expect(sv[0]).toBeLessThan(1 + 1e-5);
    expect(sv[0]).toBeGreaterThan(0.1);
    model.dispose();
  });

  it('maxMin, groupSort, invertibleDownsample: the ops of @lipschitz/layers; circularPad + valid conv = circular conv', async () => {
    const x = seededNormal([2, 4, 4, 4], 3);
    await expectClose(wrap(maxMin(), [4, 4, 4]).predict(x) as tf.Tensor, lip.maxMin().apply(x), { atol: 0 });
    await expectClose(wrap(groupSort({ groupSize: 4 }), [4, 4, 4]).predict(x) as tf.Tensor, lip.groupSort({ groupSize: 4 }).apply(x), { atol: 0 });
    await expectClose(wrap(invertibleDownsample({ factor: 2 }), [4, 4, 4]).predict(x) as tf.Tensor, lip.invertibleDownsample({ factor: 2 }).apply(x), { atol: 0 });
    expect(await (wrap(maxMin(), [4]).predict(tf.tensor2d([[1, -2, 3, 4]])) as tf.Tensor).array()).toEqual([[3, 4, 1, -2]]);
    // pad + 'valid' conv with a kernel K equals the circular conv of @lipschitz/layers' exported layer.
    const conv = lip.rkoConv2d({ inChannels: 4, outChannels: 2, kernelSize: 2, seed: 1, bias: false });
    conv.freeze();
    const kernel = tf.reshape(tf.div(await tf.tidy(() => tf.clone((conv as lip.RkoConv2d).weight)), 2), [2, 2, 4, 2]);
    const plain = tfl.sequential();
    plain.add(circularPad({ kernelSize: 2, inputShape: [4, 4, 4] }));
    plain.add(tfl.layers.conv2d({ filters: 2, kernelSize: 2, padding: 'valid', useBias: false }));
    const exported = await conv.exportLayers([4, 4, 4]);
    const { decodeTensor } = await import('@lipschitz/core');
    const k = decodeTensor((exported[0] as { kernel: Parameters<typeof decodeTensor>[0] }).kernel);
    plain.layers[1].setWeights([tf.tensor(k.values, k.shape)]);
    await expectClose(plain.predict(x) as tf.Tensor, conv.apply(x), { atol: 1e-6 });
    kernel.dispose();
    conv.dispose();
  });

  it('shapes: computeOutputShape matches call; odd channels and bad strides are refused', async () => {
    const model = tfl.sequential();
    model.add(bcopConv2d({ filters: 4, kernelSize: 4, strides: 2, inputShape: [8, 8, 1] }));
    model.add(maxMin());
    model.add(rkoConv2d({ filters: 6, kernelSize: 3 }));
    model.add(groupSort({ groupSize: 3 }));
    model.add(tfl.layers.flatten());
    model.add(bjorckDense({ units: 5 }));
    expect(model.outputs[0].shape).toEqual([null, 5]);
    expect((model.predict(seededUniform([2, 8, 8, 1], 1)) as tf.Tensor).shape).toEqual([2, 5]);
    expect(() => bcopConv2d({ filters: 4, kernelSize: 3, strides: 2 })).toThrow(LipschitzError);
    expect(() => bcopConv2d({ filters: 0, kernelSize: 3 })).toThrow(/filters/);
    expect(() => groupSort({ groupSize: 0 })).toThrow(LipschitzError);
    const odd = tfl.sequential();
    expect(() => odd.add(maxMin({ inputShape: [3] }))).toThrow(/even/);
    model.dispose();
  });

  it('eval-time caching: predict reuses the kernels until a weight changes', async () => {
    const model = wrap(bcopConv2d({ filters: 4, kernelSize: 3, seed: 1 }), [4, 4, 4]);
    const x = seededNormal([1, 4, 4, 4], 2);
    const y1 = model.predict(x) as tf.Tensor;
    const before = tf.memory().numTensors;
    const y2 = model.predict(x) as tf.Tensor;
    // Only the output is new: the kernel was not rebuilt.
    expect(tf.memory().numTensors).toBe(before + 1);
    await expectClose(y2, y1, { atol: 0 });
    model.setWeights(model.getWeights().map((w, i) => tf.add(w, seededNormal(w.shape, 40 + i, 0.1))));
    const y3 = model.predict(x) as tf.Tensor;
    const d = await tf.max(tf.abs(tf.sub(y3, y1))).data();
    expect(d[0]).toBeGreaterThan(1e-3);
    model.dispose();
  });
});

// Once, outside the per-backend runs: it loads a second copy of the package.
it('registration happens once: a second copy of the package loads without throwing and keeps the first classes', async () => {
  const map = tf.serialization.SerializationMap.getMap().classNameMap;
  expect(map.BcopConv2d[0]).toBe(BcopConv2d);
  vi.resetModules();
  const copy = './index?copy=2';
  const second = (await import(/* @vite-ignore */ copy)) as typeof import('./index');
  expect(second.BcopConv2d).not.toBe(BcopConv2d);
  expect(map.BcopConv2d[0]).toBe(BcopConv2d);
  expect(() => second.registerLayerOnce(second.BcopConv2d)).not.toThrow();
});
