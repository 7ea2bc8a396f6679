/**
 * What is tested: certifyExportedModel and certifyModel produce the certify.json shape, agree with
 * certify() on the same logits, do not depend on the batch size, recompute (not trust) the file's
 * bound, take the larger of the two bounds for a live module and restore its frozen state; leaks; errors.
 * What is not tested here: attack soundness (test/soundness.test.ts).
 */
import type { ExportedModel, LipschitzModule } from '@lipschitz/core';
import { describeBackends, expectNoLeaks } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { unitConvNet } from '../test/fixtures';
import { certify } from './certify';
import { certifyExportedModel, certifyModel } from './certify-model';
import { type ExportedForward, exportedForward } from './exported-forward';
import { modelLipschitzUpperBound } from './model-lipschitz-upper-bound';
import { float32ErrorBound } from './float-error-bound';
import { networkLipschitzUpperBound } from './network-bound';

/** The old rule (the comparisons below pin it; the default is tested on its own). */
const OLD = 'assume-relative-1e-5' as const;

function fakeModule(net: ExportedModel, forward: ExportedForward, ownBound: number) {
  const state = { frozen: false, appliedUnfrozen: 0, freezes: 0 };
  const module: LipschitzModule = {
    name: 'fake',
    apply: (x) => {
      if (!state.frozen) state.appliedUnfrozen++;
      return forward.predict(x);
    },
    trainableVariables: [],
    stateVariables: [],
    freeze: () => {
      state.frozen = true;
      state.freezes++;
    },
    unfreeze: () => {
      state.frozen = false;
    },
    get frozen() {
      return state.frozen;
    },
    lipschitzUpperBound: async () => ownBound,
    exportLayers: async () => net.layers,
    outputShape: () => [10],
    dispose: () => {},
  };
  return { module, state };
}

describeBackends('certifyExportedModel / certifyModel', () => {
  const net = unitConvNet(2);
  let forward: ExportedForward;
  let images: tf.Tensor;
  let labels: tf.Tensor1D;
  beforeAll(() => {
    forward = exportedForward(net);
    images = tf.randomUniform([13, 6, 6, 2], 0, 1, 'float32', 9);
    labels = tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2], 'int32');
  });
  afterAll(() => {
    forward.dispose();
    images.dispose();
    labels.dispose();
  });

  it('returns the certify.json shape, equal to certify() on the same logits, for any batch size', async () => {
    const epsilons = [0.01, 0.02];
    const a = await certifyExportedModel(net, images, labels, { epsilons, batchSize: 4, floatErrorModel: OLD });
    const b = await certifyExportedModel(net, images, labels, { epsilons, floatErrorModel: OLD });
    const bound = networkLipschitzUpperBound(net);
    const direct = await certify(forward.predict(images), labels, { lipschitz: bound.lipschitzUpperBound, epsilons, floatErrorModel: OLD });
    expect(a.lipschitzUpperBound).toBe(bound.lipschitzUpperBound);
    expect(Number.isNaN(net.lipschitzUpperBound)).toBe(true); // the file's own value is not used
    expect(a.clean).toBe(direct.clean);
    expect(a.certified).toEqual(direct.certifiedAccuracy);
    expect(b.certified).toEqual(a.certified);
    expect(Array.from(a.examples.predictions)).toEqual(Array.from(direct.predictions));
    for (let i = 0; i < 13; i++) expect(a.examples.radii[i]).toBeCloseTo(direct.radii[i], 6);
    expect(a.layers.map((l) => l.type)).toEqual(['conv2d', 'maxMin', 'invertibleDownsample', 'conv2d', 'maxMin', 'flatten', 'dense']);
    const json = JSON.parse(JSON.stringify({ clean: a.clean, certified: a.certified, lipschitzUpperBound: a.lipschitzUpperBound, layers: a.layers }));
    expect(Object.keys(json.certified)).toEqual(['0.01', '0.02']);
    expect(json.layers[0]).toMatchObject({ index: 0, type: 'conv2d', inputShape: [6, 6, 2] });
    expect(a.count).toBe(13);
  });

  it('certifyModel freezes the module for the forward pass, restores it, and uses the larger bound', async () => {
    const ours = networkLipschitzUpperBound(net).lipschitzUpperBound;
    const larger = fakeModule(net, forward, 2);
    const r1 = await certifyModel(larger.module, images, labels, { epsilons: [0.01], inputShape: [6, 6, 2], batchSize: 5, floatErrorModel: OLD });
    expect(r1.lipschitzUpperBound).toBe(2);
    expect(larger.state.appliedUnfrozen).toBe(0);
    expect(larger.state.freezes).toBe(1);
    expect(larger.module.frozen).toBe(false);
    const smaller = fakeModule(net, forward, 0.5);
    smaller.module.freeze();
    const r2 = await certifyModel(smaller.module, images, labels, { epsilons: [0.01], inputShape: [6, 6, 2], floatErrorModel: OLD });
    expect(r2.lipschitzUpperBound).toBe(ours);
    expect(smaller.module.frozen).toBe(true);
    const viaFile = await certifyExportedModel(net, images, labels, { epsilons: [0.01], floatErrorModel: OLD });
    expect(r2.certified).toEqual(viaFile.certified);
    expect(r2.clean).toBe(viaFile.clean);
  });

  it('the default rule: the float32 error bound is subtracted (equal to certify() with floatError), L of the exact network', async () => {
    const epsilons = [0, 0.01, 0.02];
    const r = await certifyExportedModel(net, images, labels, { epsilons, batchSize: 4 });
    const old = await certifyExportedModel(net, images, labels, { epsilons, floatErrorModel: OLD });
    const b = await float32ErrorBound(net.input.shape, net.layers, images);
    const logits = tf.tensor2d(b.logits, [13, 10]);
    const direct = await certify(logits, labels, { lipschitz: b.lipschitz, epsilons, floatError: b.error });
    logits.dispose();
    const bound = networkLipschitzUpperBound(net);
    expect(r.floatErrorModel).toBe('rigorous');
    expect(old.floatErrorModel).toBe('assume-relative-1e-5');
    expect(r.lipschitzUpperBound).toBe(bound.exactProduct * (1 + 1e-9));
    expect(r.lipschitzUpperBound).toBeLessThan(old.lipschitzUpperBound);
    expect(r.certified).toEqual(direct.certifiedAccuracy);
    expect(Array.from(r.examples.radii)).toEqual(Array.from(direct.radii));
    expect(r.clean).toBe(old.clean);
    for (let i = 0; i < 13; i++) {
      // the float error only removes radius: r_i ≤ margin / (√2 L)
      expect(r.examples.radii[i]).toBeLessThanOrEqual(r.examples.margins[i] / (Math.SQRT2 * r.lipschitzUpperBound));
      // E(0) + E(r) = 2a + b·r, by the theorem of certify()
      const e = 2 * (r.floatError?.constant[i] ?? Number.NaN) + (r.floatError?.perRadius ?? Number.NaN) * r.examples.radii[i];
      if (r.examples.radii[i] > 0) expect(r.examples.margins[i]).toBeGreaterThan(Math.SQRT2 * r.lipschitzUpperBound * r.examples.radii[i] + Math.SQRT2 * e);
    }
    // a live module: the larger of the module's own bound and the exact-network bound
    const larger = fakeModule(net, forward, 2);
    const viaModule = await certifyModel(larger.module, images, labels, { epsilons, inputShape: [6, 6, 2] });
    expect(viaModule.lipschitzUpperBound).toBe(2);
    const smaller = fakeModule(net, forward, 0.5);
    const same = await certifyModel(smaller.module, images, labels, { epsilons, inputShape: [6, 6, 2] });
    expect(same.certified).toEqual(r.certified);
    await expect(certify(forward.predict(images), labels, { lipschitz: 1, epsilons })).rejects.toThrow(/^certify: the default floatErrorModel 'rigorous' needs options.floatError/);
    await expect(certifyExportedModel(net, images, labels, { epsilons, floatErrorModel: 'bogus' as never })).rejects.toThrow(/^certifyExportedModel: floatErrorModel must be 'rigorous' \(default\) or 'assume-relative-1e-5'/);
    await expect(certifyExportedModel({ ...net, input: { ...net.input, range: [0, 0.5] } }, images, labels, { epsilons })).rejects.toThrow(
      /^certifyExportedModel: images span \[.*\] but the model's input.range is \[0, 0.5\]/,
    );
  });

  it('does not leak', async () => {
    await expectNoLeaks(() => certifyExportedModel(net, images, labels, { epsilons: [0.01], batchSize: 5 }), 2);
  });

  it('rejects bad inputs', async () => {
    const opts = { epsilons: [0.1] };
    await expect(certifyExportedModel({ ...net, format: 'other' } as never, images, labels, opts)).rejects.toThrow(/^certifyExportedModel: exported.format must be "lipschitz-model\/1"/);
    await expect(certifyExportedModel(net, tf.zeros([13, 5, 5, 2]), labels, opts)).rejects.toThrow(/^certifyExportedModel: images have shape \[N, 5, 5, 2\] but the model takes \[N, 6, 6, 2\]/);
    await expect(certifyExportedModel(net, images, labels, { epsilons: [0.1], batchSize: 0 })).rejects.toThrow(/^certifyExportedModel: batchSize must be a positive integer/);
    await expect(certifyExportedModel(net, images, tf.tensor1d([1], 'int32'), opts)).rejects.toThrow(/^certifyExportedModel: labels has 1 entries but images has 13/);
    await expect(certifyExportedModel(net, images, tf.fill([13], 10, 'int32') as tf.Tensor1D, opts)).rejects.toThrow(/^certifyExportedModel: label 0 is 10, outside \[0, 10\)/);
    await expect(certifyExportedModel({ format: 'lipschitz-model/1' } as never, images, labels, opts)).rejects.toThrow(/^networkLipschitzUpperBound: model must have input.shape and layers/);
    const { module } = fakeModule(net, forward, 1);
    await expect(certifyModel(module, images, labels, { epsilons: [0.1] } as never)).rejects.toThrow(/^certifyModel: inputShape must be the input shape/);
  });
});

describeBackends('modelLipschitzUpperBound', () => {
  it('bounds the exported layers and keeps the larger of the two bounds', async () => {
    const net = unitConvNet(4);
    const forward = exportedForward(net);
    const ours = networkLipschitzUpperBound(net);
    const larger = await modelLipschitzUpperBound(fakeModule(net, forward, 3).module, [6, 6, 2]);
    expect(larger.lipschitzUpperBound).toBe(3);
    expect(larger.moduleLipschitzUpperBound).toBe(3);
    expect(larger.layers).toEqual(ours.layers);
    const smaller = await modelLipschitzUpperBound(fakeModule(net, forward, 0.1).module, [6, 6, 2]);
    expect(smaller.lipschitzUpperBound).toBe(ours.lipschitzUpperBound);
    const infinite = await modelLipschitzUpperBound(fakeModule(net, forward, Number.POSITIVE_INFINITY).module, [6, 6, 2]);
    expect(infinite.lipschitzUpperBound).toBe(ours.lipschitzUpperBound);
    await expect(modelLipschitzUpperBound(fakeModule(net, forward, 1).module, 'x' as never)).rejects.toThrow(/^modelLipschitzUpperBound: inputShape must be/);
    forward.dispose();
  });
});
