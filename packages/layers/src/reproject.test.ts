import { REFERENCE_BJORCK, REPROJECTED_BJORCK } from '@lipschitz/orthogonalize';
import { describeBackends, expectClose, expectNoLeaks, seededNormal, seededUniform } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { maxSingularValueDeviation, trainSynthetic } from '../test/helpers/orthogonal-training';
import { expect, it } from 'vitest';
import {
  type BcopConv2d,
  type BjorckDense,
  type LayerModule,
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

/** A small model with every re-projecting layer type: strided BCOP, BCOP k=3, RKO, Björck dense (tall, square). */
function tinyModel(reproject: boolean, seed = 0): Sequential {
  // without re-projection: the reference's scheme (Björck-20 in every forward pass; the default before issue 14)
  const r = reproject ? { reproject: true } : { orthogonalization: 'unrolled' as const };
  return sequential([
    bcopConv2d({ inChannels: 2, outChannels: 8, kernelSize: 4, stride: 2, seed, ...r }),
    maxMin(),
    bcopConv2d({ inChannels: 8, outChannels: 6, kernelSize: 3, seed: seed + 1, ...r }),
    maxMin(),
    rkoConv2d({ inChannels: 6, outChannels: 4, kernelSize: 2, seed: seed + 2, ...r }),
    maxMin(),
    flatten(),
    bjorckDense({ inputs: 64, outputs: 10, seed: seed + 3, ...r }),
    maxMin(),
    bjorckDense({ inputs: 10, outputs: 10, seed: seed + 4, ...r }),
  ]);
}
const INPUT: [number, number, number] = [8, 8, 2];

const train = (model: Sequential, steps: number, afterStep = true) => trainSynthetic(model, INPUT, steps, afterStep);

const maxDeviation = (model: Sequential) => maxSingularValueDeviation(model, INPUT);

describeBackends('reproject option (bcopConv2d, rkoConv2d, bjorckDense)', () => {
  it('selects REPROJECTED_BJORCK unless an orthogonalizer is given; the option is in the config', () => {
    const conv = bcopConv2d({ inChannels: 2, outChannels: 4, kernelSize: 4, stride: 2, reproject: true, seed: 3 }) as StridedConv;
    const inner = conv.inner as BcopConv2d;
    expect(inner.reproject).toBe(true);
    expect(inner.orthogonalizer).toEqual({ ...REPROJECTED_BJORCK, seed: 4 });
    expect(conv.config.options.reproject).toBe(true);
    const dense = bjorckDense({ inputs: 6, outputs: 3, reproject: true, orthogonalizer: REFERENCE_BJORCK }) as BjorckDense;
    expect(dense.orthogonalizer).toBe(REFERENCE_BJORCK);
    expect((rkoConv2d({ inChannels: 2, outChannels: 2, kernelSize: 2 }) as RkoConv2d).reproject).toBe(false);
    expect((bcopConv2d({ inChannels: 2, outChannels: 2, kernelSize: 2, reproject: true, iterations: 3 }) as BcopConv2d).orthogonalizer).toMatchObject({
      kind: 'bjorck',
      iterations: 3,
    });
    for (const m of [conv, dense]) m.dispose();
  });

  it('after 40 Adam steps with re-projection, every layer’s exact singular values are within 1e-4 of 1 (without it, the reduced preset is not)', async () => {
    const model = tinyModel(true);
    await train(model, 40);
    const deviations = await maxDeviation(model);
    expect(deviations.length).toBe(5);
    for (const { layer, deviation } of deviations) expect(deviation, layer).toBeLessThan(1e-4);
    expect(await model.lipschitzUpperBound(INPUT)).toBeLessThan(1 + 1e-4);
    model.dispose();
    // control: the same training without afterStep leaves the 1-step preset far from orthogonal
    const control = tinyModel(true);
    await train(control, 40, false);
    expect(Math.max(...(await maxDeviation(control)).map((d) => d.deviation))).toBeGreaterThan(1e-3);
    control.dispose();
  });

  it('re-projection leaves the function unchanged: the reduced preset after it equals the reference before it', async () => {
    const reprojected = tinyModel(true, 5);
    const reference = tinyModel(false, 5);
    // move both off the manifold by the same perturbation (as an optimizer step would)
    reprojected.trainableVariables.forEach((v, i) => {
      const moved = tf.tidy(() => tf.add(v, seededNormal(v.shape, 100 + i, 0.02)));
      v.assign(moved);
      reference.trainableVariables[i].assign(moved);
      moved.dispose();
    });
    const x = seededUniform([4, ...INPUT], 9);
    const before = reference.apply(x);
    await reprojected.afterStep(1);
    await expectClose(reprojected.apply(x), before, { atol: 1e-5 });
    // and with a converged orthogonalizer on the same layer, the output does not move
    const layer = bjorckDense({ inputs: 12, outputs: 5, reproject: true, orthogonalizer: REFERENCE_BJORCK, seed: 2 }) as BjorckDense;
    layer.weight.assign(tf.add(layer.weight, seededNormal([12, 5], 3, 0.05)));
    const y = seededNormal([3, 12], 4);
    const y1 = layer.apply(y);
    layer.afterStep(1);
    await expectClose(layer.apply(y), y1, { atol: 1e-5 });
    for (const m of [reprojected, reference, layer]) m.dispose();
  });

  it('a frozen layer’s cached kernel follows a re-projection; nothing happens without the option', async () => {
    const layer = bcopConv2d({ inChannels: 3, outChannels: 3, kernelSize: 2, reproject: true, orthogonalizer: REFERENCE_BJORCK }) as BcopConv2d;
    const plainLayer = bcopConv2d({ inChannels: 3, outChannels: 3, kernelSize: 2, orthogonalization: 'unrolled' }) as BcopConv2d;
    const offset = seededNormal(layer.params.shape, 6, 0.05);
    layer.params.assign(tf.add(layer.params, offset));
    plainLayer.params.assign(tf.add(plainLayer.params, offset));
    const x = seededNormal([2, 4, 4, 3], 7);
    layer.freeze();
    const y = layer.apply(x);
    const paramsBefore = await layer.params.data();
    layer.afterStep(1);
    expect(Array.from(await layer.params.data())).not.toEqual(Array.from(paramsBefore));
    expect(layer.frozen).toBe(true);
    await expectClose(layer.apply(x), y, { atol: 1e-5 });
    const untouched = await plainLayer.params.data();
    plainLayer.afterStep(1);
    expect(Array.from(await plainLayer.params.data())).toEqual(Array.from(untouched));
    for (const m of [layer, plainLayer]) m.dispose();
  });

  it('save/load and layerFromConfig keep the option (smallConvNet reproject)', async () => {
    const model = smallConvNet({ conv: 'bcop', inputShape: [8, 8, 1], reproject: true, seed: 1 });
    await model.afterStep(1);
    const { model: copy } = await deserializeModel(await serializeModel(model));
    const rebuilt = layerFromConfig(model.config) as Sequential;
    for (const m of [copy as Sequential, rebuilt]) {
      const conv = (m.layers[0] as StridedConv).inner as BcopConv2d;
      expect(conv.reproject).toBe(true);
      expect(conv.orthogonalizer.kind).toBe('bjorck');
      expect((m.layers[5] as BjorckDense).reproject).toBe(true);
    }
    const x = seededUniform([2, 8, 8, 1], 3);
    await expectClose(copy.apply(x), model.apply(x), { atol: 0 });
    for (const m of [model, copy, rebuilt]) m.dispose();
  });

  it('afterStep leaves no tensors behind (frozen or not)', async () => {
    const model = tinyModel(true);
    await expectNoLeaks(() => model.afterStep(1));
    model.freeze();
    await expectNoLeaks(() => model.afterStep(2));
    model.dispose();
  });

  it('validates', () => {
    expect(() => bcopConv2d({ inChannels: 2, outChannels: 2, kernelSize: 2, reproject: 'yes' as never })).toThrow(/^bcopConv2d: reproject must be a boolean, got yes/);
    expect(() => rkoConv2d({ inChannels: 2, outChannels: 2, kernelSize: 2, reproject: 1 as never })).toThrow(/^rkoConv2d: reproject must be a boolean/);
    expect(() => bjorckDense({ inputs: 2, outputs: 2, reproject: null as never })).toThrow(/^bjorckDense: reproject must be a boolean/);
    expect(() => smallConvNet({ conv: 'bcop', inputShape: [8, 8, 1], reproject: 'no' as never })).toThrow(/^smallConvNet: reproject must be a boolean/);
    const layer: LayerModule = bjorckDense({ inputs: 2, outputs: 2, reproject: true });
    expect(() => layer.afterStep?.(0)).toThrow(/^bjorckDense.afterStep: step must be a positive integer, got 0/);
    layer.dispose();
    expect(() => layer.afterStep?.(1)).toThrow(/^bjorckDense.afterStep: .*disposed/);
  });
});
