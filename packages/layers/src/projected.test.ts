import { REFERENCE_BJORCK, REFERENCE_BJORCK_GRAM } from '@lipschitz/orthogonalize';
import { describeBackends, expectClose, expectNoLeaks, seededNormal, seededUniform } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { maxSingularValueDeviation, trainSynthetic } from '../test/helpers/orthogonal-training';
import { expect, it } from 'vitest';
import {
  type BcopConv2d,
  type BjorckDense,
  type LayerConfig,
  type RkoConv2d,
  type Sequential,
  type StridedConv,
  bcopConv2d,
  bjorckDense,
  deserializeModel,
  flatten,
  layerFromConfig,
  maxMin,
  rkoConv2d,
  sequential,
  serializeModel,
  smallConvNet,
} from './index';

const INPUT: [number, number, number] = [8, 8, 2];

/** Every layer type the scheme applies to: strided BCOP, BCOP k=3, RKO, Björck dense (tall, square); default options. */
function tinyModel(seed = 0, extra: Record<string, unknown> = {}): Sequential {
  return sequential([
    bcopConv2d({ inChannels: 2, outChannels: 8, kernelSize: 4, stride: 2, seed, ...extra }),
    maxMin(),
    bcopConv2d({ inChannels: 8, outChannels: 6, kernelSize: 3, seed: seed + 1, ...extra }),
    maxMin(),
    rkoConv2d({ inChannels: 6, outChannels: 4, kernelSize: 2, seed: seed + 2, ...extra }),
    maxMin(),
    flatten(),
    bjorckDense({ inputs: 64, outputs: 10, seed: seed + 3, ...extra }),
    maxMin(),
    bjorckDense({ inputs: 10, outputs: 10, seed: seed + 4, ...extra }),
  ]);
}

const train = (model: Sequential, steps: number, afterStep = true) => trainSynthetic(model, INPUT, steps, afterStep);

const maxDeviation = (model: Sequential) => maxSingularValueDeviation(model, INPUT);

/** A config as saved before issue 14: the same tree without any `orthogonalization` field. */
function withoutOrthogonalization(config: LayerConfig): LayerConfig {
  const { orthogonalization: _drop, ...options } = config.options;
  if (config.type === 'sequential') {
    return { type: 'sequential', options: { ...options, layers: (options.layers as LayerConfig[]).map(withoutOrthogonalization) } };
  }
  return { type: config.type, options };
}

describeBackends("orthogonalization 'projected' (the default of bcopConv2d, rkoConv2d, bjorckDense)", () => {
  it('is the default of the layers and the model builders, written into the configs; the other schemes stay selectable', () => {
    const conv = bcopConv2d({ inChannels: 2, outChannels: 4, kernelSize: 4, stride: 2, seed: 3 }) as StridedConv;
    expect((conv.inner as BcopConv2d).orthogonalization).toBe('projected');
    expect((conv.inner as BcopConv2d).orthogonalizer).toEqual({ ...REFERENCE_BJORCK_GRAM, seed: 4 });
    expect((conv.inner as BcopConv2d).reproject).toBe(false);
    expect(conv.config.options.orthogonalization).toBe('projected');
    const rko = rkoConv2d({ inChannels: 2, outChannels: 2, kernelSize: 2 }) as RkoConv2d;
    expect(rko.orthogonalization).toBe('projected');
    const dense = bjorckDense({ inputs: 6, outputs: 3 }) as BjorckDense;
    expect(dense.orthogonalization).toBe('projected');
    const literal = bjorckDense({ inputs: 6, outputs: 3, orthogonalizer: REFERENCE_BJORCK }) as BjorckDense;
    expect(literal.orthogonalization).toBe('unrolled');
    expect(literal.orthogonalizer).toBe(REFERENCE_BJORCK);
    const unrolled = bjorckDense({ inputs: 6, outputs: 3, orthogonalization: 'unrolled', seed: 2 }) as BjorckDense;
    expect(unrolled.orthogonalizer).toEqual({ ...REFERENCE_BJORCK_GRAM, seed: 3 });
    expect((bjorckDense({ inputs: 6, outputs: 3, reproject: true }) as BjorckDense).orthogonalization).toBe('reprojected');
    for (const builder of [smallConvNet]) {
      const model = builder({ conv: 'bcop', inputShape: [8, 8, 1] });
      const dense = model.layers.at(-1) as BjorckDense;
      expect(dense.orthogonalization, builder.name).toBe('projected');
      expect(((model.layers[0] as StridedConv).config.options.orthogonalization as string) ?? '', builder.name).toBe('projected');
      model.dispose();
    }
    const reference = smallConvNet({ conv: 'bcop', inputShape: [8, 8, 1], orthogonalization: 'unrolled', orthogonalizer: REFERENCE_BJORCK });
    expect(((reference.layers[0] as StridedConv).inner as BcopConv2d).orthogonalizer).toBe(REFERENCE_BJORCK);
    expect((reference.layers.at(-1) as BjorckDense).orthogonalizer).toBe(REFERENCE_BJORCK);
    for (const m of [conv, rko, dense, literal, unrolled, reference]) m.dispose();
  });

  it('after 20 Adam steps, every layer’s exact singular values are within 1e-5 of 1, and the training forward is within 1e-3 of the frozen one (not without afterStep)', async () => {
    const model = tinyModel();
    await train(model, 20);
    const deviations = await maxDeviation(model);
    expect(deviations.length).toBe(5);
    for (const { layer, deviation } of deviations) expect(deviation, layer).toBeLessThan(1e-5);
    expect(await model.lipschitzUpperBound(INPUT)).toBeLessThan(1 + 1e-5);
    // the parameters themselves stay on the scaled manifold: the rescaling forward ≈ the fully projected one
    const x = seededUniform([4, ...INPUT], 9);
    const training = model.apply(x);
    model.freeze();
    await expectClose(model.apply(x), training, { atol: 1e-3 });
    model.unfreeze();
    // control: without the retraction the rescaled parameters drift off the manifold
    const control = tinyModel();
    await train(control, 20, false);
    const drifting = control.apply(x);
    control.freeze();
    const exact = control.apply(x);
    const gap = Math.max(...Array.from(await tf.abs(tf.sub(drifting, exact)).data()));
    expect(gap).toBeGreaterThan(1e-2);
    for (const m of [model, control]) m.dispose();
    tf.dispose([x, training, drifting, exact]);
  });

  it('at initialisation (on the manifold) frozen output equals unfrozen; the unfrozen forward has no Björck iterations', async () => {
    const layer = bcopConv2d({ inChannels: 4, outChannels: 8, kernelSize: 4, stride: 2, seed: 2 });
    const model = smallConvNet({ conv: 'bcop', inputShape: [8, 8, 1], seed: 3 });
    const x = seededNormal([2, 6, 6, 4], 4);
    const xm = seededUniform([3, 8, 8, 1], 5);
    const unfrozen = layer.apply(x);
    const unfrozenModel = model.apply(xm);
    const profile = await tf.profile(() => layer.apply(x));
    const matMuls = profile.kernels.filter((k) => k.name === 'BatchMatMul').length;
    layer.freeze();
    model.freeze();
    // float32 rounding only: the full projection of a parameter already on the manifold changes it by a few ulps
    await expectClose(layer.apply(x), unfrozen, { atol: 1e-6, rtol: 1e-6 });
    await expectClose(model.apply(xm), unfrozenModel, { atol: 1e-5 });
    const unrolled = bcopConv2d({ inChannels: 4, outChannels: 8, kernelSize: 4, stride: 2, seed: 2, orthogonalization: 'unrolled' });
    const unrolledMatMuls = (await tf.profile(() => unrolled.apply(x))).kernels.filter((k) => k.name === 'BatchMatMul').length;
    expect(matMuls).toBeLessThan(unrolledMatMuls / 4);
    for (const m of [layer, model, unrolled]) m.dispose();
    tf.dispose([x, xm, unfrozen, unfrozenModel]);
  });

  it('exports fully projected kernels even when the parameters are off the manifold (frozen or not)', async () => {
    const model = tinyModel(4);
    model.trainableVariables.forEach((v, i) => {
      const moved = tf.tidy(() => tf.add(v, seededNormal(v.shape, 50 + i, 0.05)));
      v.assign(moved);
      moved.dispose();
    });
    for (const { layer, deviation } of await maxDeviation(model)) expect(deviation, layer).toBeLessThan(1e-5);
    model.freeze();
    for (const { layer, deviation } of await maxDeviation(model)) expect(deviation, `${layer} frozen`).toBeLessThan(1e-5);
    model.dispose();
  });

  it('save/load keeps the scheme and the function; configs saved before issue 14 rebuild the old default (and reproject)', async () => {
    const model = smallConvNet({ conv: 'bcop', inputShape: [8, 8, 1], seed: 1 });
    await model.afterStep(1);
    const { model: copy } = await deserializeModel(await serializeModel(model));
    const x = seededUniform([2, 8, 8, 1], 3);
    expect((copy as Sequential).config).toEqual(model.config);
    await expectClose(copy.apply(x), model.apply(x), { atol: 0 });
    // an old config: no orthogonalization field → Björck-20 (Gram form) unrolled, the default of that time
    const old = smallConvNet({ conv: 'bcop', inputShape: [8, 8, 1], seed: 1, orthogonalization: 'unrolled' });
    const oldConfig = withoutOrthogonalization(old.config);
    expect(JSON.stringify(oldConfig)).not.toContain('orthogonalization');
    const rebuilt = layerFromConfig(oldConfig) as Sequential;
    const conv = (rebuilt.layers[0] as StridedConv).inner as BcopConv2d;
    expect(conv.orthogonalization).toBe('unrolled');
    expect(conv.orthogonalizer).toEqual({ ...REFERENCE_BJORCK_GRAM, seed: 2 });
    expect((rebuilt.layers.at(-1) as BjorckDense).orthogonalization).toBe('unrolled');
    rebuilt.variables.forEach((v, i) => {
      v.assign(old.variables[i]);
    });
    await expectClose(rebuilt.apply(x), old.apply(x), { atol: 0 });
    // and a saved old model (bytes with the old config) loads with the same function
    const { model: loaded } = await deserializeModel(await serializeModel({ config: oldConfig, variables: old.variables } as unknown as Sequential));
    expect(((((loaded as Sequential).layers[0] as StridedConv).inner as BcopConv2d).orthogonalization)).toBe('unrolled');
    await expectClose(loaded.apply(x), old.apply(x), { atol: 0 });
    // an old reproject: true config rebuilds re-projection
    const oldReprojected = withoutOrthogonalization(smallConvNet({ conv: 'bcop', inputShape: [8, 8, 1], reproject: true }).config);
    const rebuiltReprojected = layerFromConfig(oldReprojected) as Sequential;
    expect(((rebuiltReprojected.layers[0] as StridedConv).inner as BcopConv2d).orthogonalization).toBe('reprojected');
    for (const m of [model, copy, old, rebuilt, loaded, rebuiltReprojected]) m.dispose();
    x.dispose();
  });

  it('afterStep leaves no tensors behind (frozen or not); a disposed layer leaves none', async () => {
    const model = tinyModel();
    await expectNoLeaks(() => model.afterStep(1));
    model.freeze();
    await expectNoLeaks(() => model.afterStep(2));
    const before = tf.memory().numTensors;
    const layer = bjorckDense({ inputs: 5, outputs: 4 });
    layer.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('retractionSteps: written into the configs and passed to every orthogonal layer by the builders; 1 step keeps the kernels orthogonal, leaving more drift than 2', async () => {
    const dense = bjorckDense({ inputs: 6, outputs: 3, retractionSteps: 1 }) as BjorckDense;
    expect(dense.config.options.retractionSteps).toBe(1);
    const built = smallConvNet({ conv: 'bcop', inputShape: [8, 8, 1], retractionSteps: 1 });
    const bcop = (built.layers[0] as StridedConv).inner as BcopConv2d;
    expect(bcop.config.options.retractionSteps).toBe(1);
    expect((built.layers.at(-1) as BjorckDense).config.options.retractionSteps).toBe(1);
    expect((smallConvNet({ conv: 'bcop', inputShape: [8, 8, 1] }).layers.at(-1) as BjorckDense).config.options.retractionSteps).toBeUndefined();
    const gaps: number[] = [];
    const x = seededUniform([4, ...INPUT], 9);
    for (const steps of [1, 2]) {
      const model = tinyModel(0, { retractionSteps: steps });
      await train(model, 20);
      for (const { layer, deviation } of await maxDeviation(model)) expect(deviation, `${steps} step(s): ${layer}`).toBeLessThan(1e-5);
      const training = model.apply(x);
      model.freeze();
      const frozen = model.apply(x);
      gaps.push(Math.max(...Array.from(await tf.abs(tf.sub(training, frozen)).data())));
      const { model: restored } = await deserializeModel(await serializeModel(model));
      expect(((restored as Sequential).layers.at(-1) as BjorckDense).config.options.retractionSteps).toBe(steps);
      tf.dispose([training, frozen]);
      for (const m of [model, restored]) m.dispose();
    }
    // one step: a 20-step run stays close to the manifold, but further from it than with two (the wiring is real)
    expect(gaps[0]).toBeLessThan(1e-3);
    expect(gaps[0]).toBeGreaterThan(20 * gaps[1]);
    x.dispose();
    for (const m of [dense, built]) m.dispose();
  });

  it('validates', () => {
    expect(() => bcopConv2d({ inChannels: 2, outChannels: 2, kernelSize: 2, orthogonalization: 'fast' as never })).toThrow(
      /^bcopConv2d: orthogonalization must be one of/,
    );
    expect(() => rkoConv2d({ inChannels: 2, outChannels: 2, kernelSize: 2, reproject: true, orthogonalization: 'projected' })).toThrow(
      /^rkoConv2d: reproject: true contradicts orthogonalization 'projected'/,
    );
    expect(() => smallConvNet({ conv: 'bcop', inputShape: [8, 8, 1], orthogonalization: 'x' as never })).toThrow(/^smallConvNet: orthogonalization must be one of/);
    expect(() => bjorckDense({ inputs: 4, outputs: 4, retractionSteps: 0 })).toThrow(/^bjorckDense: retractionSteps must be a positive integer/);
    expect(() => bcopConv2d({ inChannels: 2, outChannels: 2, kernelSize: 2, retractionSteps: 1.5 })).toThrow(/^bcopConv2d: retractionSteps must be/);
    expect(() => rkoConv2d({ inChannels: 2, outChannels: 2, kernelSize: 2, orthogonalization: 'unrolled', retractionSteps: 1 })).toThrow(
      /^rkoConv2d: retractionSteps applies to orthogonalization 'projected' only \(this layer is 'unrolled'\)/,
    );
    expect(() => smallConvNet({ conv: 'bcop', inputShape: [8, 8, 1], reproject: true, retractionSteps: 1 })).toThrow(/^smallConvNet: retractionSteps applies to/);
  });
});
