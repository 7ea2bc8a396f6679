/**
 * What is tested: certifyExportedModel and certifyModel produce the certify.json shape, agree with
 * certify() on the same logits, do not depend on the batch size, recompute (not trust) the file's
 * bound, use the bound of a live module's exported layers and restore its frozen state; leaks; errors.
 * What is not tested here: attack soundness (test/soundness.test.ts).
 */
import type { ExportedModel, LipschitzModule } from '@lipschitz/core';
import { describeBackends, expectNoLeaks } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { exportModel, smallConvNet } from '@lipschitz/layers';
import { FLOAT32_SLACK_PER_LINEAR_LAYER } from '@lipschitz/model-format';
import { unitConvNet } from '../test/fixtures';
import { certify } from './certify';
import { certifyExportedModel, certifyModel } from './certify-model';
import { forwardOf } from '../test/fixtures';
import { modelLipschitzUpperBound } from './bounds';
import { type ExportedForward, networkLipschitzUpperBound } from '@lipschitz/model-format';
import { float32ErrorBound } from './float-error-bound';

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
    forward = forwardOf(net);
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
    const direct = await certify(forward.predict(images), labels, { lipschitz: bound.assumedFloat32Bound, epsilons, floatErrorModel: OLD });
    expect(a.lipschitzUpperBound).toBe(bound.assumedFloat32Bound);
    expect(net.lipschitzUpperBound).toBe(1234); // the file states a wrong value ...
    expect(a.lipschitzUpperBound).not.toBe(1234); // ... which is not used
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

  it("exportModel states the L certify reports; a file stating the old rule's L (written before) or none certifies the same", async () => {
    const model = smallConvNet({ conv: 'bcop', inputShape: [8, 8, 1], seed: 3 });
    model.freeze();
    const file = await exportModel(model, { inputShape: [8, 8, 1] });
    model.dispose();
    const x = tf.randomUniform([6, 8, 8, 1], 0, 1, 'float32', 2);
    const y = tf.tensor1d([0, 1, 2, 3, 4, 5], 'int32');
    const epsilons = [0.01, 0.1];
    const now = await certifyExportedModel(file, x, y, { epsilons });
    const nowOld = await certifyExportedModel(file, x, y, { epsilons, floatErrorModel: OLD });
    const bound = networkLipschitzUpperBound(file);
    expect(file.lipschitzUpperBound).toBe(bound.lipschitzUpperBound);
    expect(file.lipschitzUpperBound).toBe(now.lipschitzUpperBound);
    expect(now.logits.length).toBe(6 * 10);
    // what export wrote before: the old rule's bound, (1 + 1e-5) per conv/dense layer above it
    const legacy: ExportedModel = JSON.parse(JSON.stringify({ ...file, lipschitzUpperBound: bound.assumedFloat32Bound }));
    expect(legacy.lipschitzUpperBound).toBeGreaterThan(file.lipschitzUpperBound);
    const { lipschitzUpperBound: stated, ...unstated } = file;
    expect(stated).toBe(now.lipschitzUpperBound);
    for (const f of [legacy, unstated as ExportedModel]) {
      const r = await certifyExportedModel(f, x, y, { epsilons });
      expect(r.lipschitzUpperBound).toBe(now.lipschitzUpperBound);
      expect(r.certified).toEqual(now.certified);
      const o = await certifyExportedModel(f, x, y, { epsilons, floatErrorModel: OLD });
      expect(o.lipschitzUpperBound).toBe(nowOld.lipschitzUpperBound);
      expect(o.certified).toEqual(nowOld.certified);
    }
    tf.dispose([x, y]);
  });

  it('certifyModel freezes the module for the forward pass, restores it, and uses the bound of its exported layers', async () => {
    const ours = networkLipschitzUpperBound(net).assumedFloat32Bound;
    const larger = fakeModule(net, forward, 2);
    const r1 = await certifyModel(larger.module, images, labels, { epsilons: [0.01], inputShape: [6, 6, 2], batchSize: 5, floatErrorModel: OLD });
    expect(r1.lipschitzUpperBound).toBe(ours); // the module's own bound (2) is not a second opinion any more
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
    const b = await float32ErrorBound(net.input.shape, net.layers, images, { center: { epsilons } }); // as certifyExportedModel runs it
    const logits = tf.tensor2d(b.logits, [13, 10]);
    const direct = await certify(logits, labels, { lipschitz: b.lipschitz, epsilons, floatError: b.error });
    logits.dispose();
    const bound = networkLipschitzUpperBound(net);
    expect(r.floatErrorModel).toBe('rigorous');
    expect(old.floatErrorModel).toBe('assume-relative-1e-5');
    // one slack policy: L of the exact network is model-format's lipschitzUpperBound, Π‖A_l‖·(1 + 1e-12) per norm
    expect(r.lipschitzUpperBound).toBe(bound.lipschitzUpperBound);
    expect(r.lipschitzUpperBound / bound.exactProduct).toBeCloseTo((1 + 1e-12) ** 3, 14);
    expect(b.lipschitz).toBe(bound.lipschitzUpperBound);
    expect(r.lipschitzUpperBound).toBeLessThan(old.lipschitzUpperBound);
    expect(r.certified).toEqual(direct.certifiedAccuracy);
    expect(Array.from(r.examples.radii)).toEqual(Array.from(direct.radii));
    expect(r.clean).toBe(old.clean);
    for (let i = 0; i < 13; i++) {
      // the float error only removes radius: r_i ≤ margin / (√2 L)
      expect(r.examples.radii[i]).toBeLessThanOrEqual(r.examples.margins[i] / (Math.SQRT2 * r.lipschitzUpperBound));
      // e₀ + E(r) = e₀ + a + b·r (e₀ the host float64 logits' error), by the theorem of certify()
      const e0 = r.floatError?.centerError?.[i] ?? Number.NaN;
      // the host logits' error where the host pass ran, else E(0) with the float32 logits
      expect(e0 < 1e-9 || e0 === r.floatError?.constant[i]).toBe(true);
      const e = e0 + (r.floatError?.constant[i] ?? Number.NaN) + (r.floatError?.perRadius ?? Number.NaN) * r.examples.radii[i];
      if (r.examples.radii[i] > 0) expect(r.examples.margins[i]).toBeGreaterThan(Math.SQRT2 * r.lipschitzUpperBound * r.examples.radii[i] + Math.SQRT2 * e);
    }
    // a live module: the bound of its exported layers (its own lipschitzUpperBound() is not a second opinion)
    const larger = fakeModule(net, forward, 2);
    const viaModule = await certifyModel(larger.module, images, labels, { epsilons, inputShape: [6, 6, 2] });
    expect(viaModule.lipschitzUpperBound).toBe(bound.lipschitzUpperBound);
    expect(viaModule.certified).toEqual(r.certified);
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
    await expect(certifyExportedModel({ ...net, format: 'other' } as never, images, labels, opts)).rejects.toThrow(/^validateExportedModel: format must be "lipschitz-model\/1"/);
    await expect(certifyExportedModel(net, tf.zeros([13, 5, 5, 2]), labels, opts)).rejects.toThrow(/^certifyExportedModel: images have shape \[N, 5, 5, 2\] but the model takes \[N, 6, 6, 2\]/);
    await expect(certifyExportedModel(net, images, labels, { epsilons: [0.1], batchSize: 0 })).rejects.toThrow(/^certifyExportedModel: batchSize must be a positive integer/);
    await expect(certifyExportedModel(net, images, tf.tensor1d([1], 'int32'), opts)).rejects.toThrow(/^certifyExportedModel: labels has 1 entries but images has 13/);
    await expect(certifyExportedModel(net, images, tf.fill([13], 10, 'int32') as tf.Tensor1D, opts)).rejects.toThrow(/^certifyExportedModel: label 0 is 10, outside \[0, 10\)/);
    await expect(certifyExportedModel({ format: 'lipschitz-model/1' } as never, images, labels, opts)).rejects.toThrow(/^validateExportedModel: input must be \{ shape: positive integers, range: \[min, max\] \}/);
    const { module } = fakeModule(net, forward, 1);
    await expect(certifyModel(module, images, labels, { epsilons: [0.1] } as never)).rejects.toThrow(/^certifyModel: inputShape must be the input shape/);
  });
});

describeBackends('modelLipschitzUpperBound (deprecated alias of moduleLipschitzBound)', () => {
  it("bounds the exported layers; the module's own bound is not consulted", async () => {
    const net = unitConvNet(4);
    const forward = forwardOf(net);
    const ours = networkLipschitzUpperBound(net);
    const larger = await modelLipschitzUpperBound(fakeModule(net, forward, 3).module, [6, 6, 2]);
    expect(larger.assumedFloat32Bound).toBe(ours.assumedFloat32Bound);
    expect(larger.layers).toEqual(ours.layers);
    const smaller = await modelLipschitzUpperBound(fakeModule(net, forward, 0.1).module, [6, 6, 2]);
    expect(smaller.assumedFloat32Bound).toBe(ours.assumedFloat32Bound);
    const infinite = await modelLipschitzUpperBound(fakeModule(net, forward, Number.POSITIVE_INFINITY).module, [6, 6, 2]);
    expect(infinite.assumedFloat32Bound).toBe(ours.assumedFloat32Bound);
    await expect(modelLipschitzUpperBound(fakeModule(net, forward, 1).module, 'x' as never)).rejects.toThrow(/^moduleLipschitzBound: inputShape must be/);
    forward.dispose();
  });
});

describeBackends('one name per quantity, one shape per result (issue 17 item 5)', () => {
  it("certify() and certifyModel() use the same names; a module's lipschitzUpperBound() cannot stand in for the certificate bound", async () => {
    const model = smallConvNet({ conv: 'bcop', inputShape: [28, 28, 1], seed: 5 });
    const images = tf.randomUniform([6, 28, 28, 1], 0, 1, 'float32', 4);
    const labels = tf.tensor1d([0, 1, 2, 3, 4, 5], 'int32');
    try {
      const report = await certifyModel(model, images, labels, { epsilons: [0.01, 0.1], inputShape: [28, 28, 1], floatErrorModel: OLD });
      model.freeze();
      const logits = model.apply(images);
      const own = await model.lipschitzUpperBound([28, 28, 1]);
      // the module's number is the exact-arithmetic bound, below the certificate bound by the float32 factor
      expect(own).toBe(report.bound.lipschitzUpperBound);
      expect(report.lipschitzUpperBound).toBe(own * (1 + FLOAT32_SLACK_PER_LINEAR_LAYER) ** report.bound.linearLayers);
      const byBound = await certify(logits, labels, { bound: report.bound, epsilons: [0.01, 0.1], floatErrorModel: OLD });
      const byDeprecated = await certify(logits, labels, { lipschitz: report.lipschitzUpperBound, epsilons: [0.01, 0.1], floatErrorModel: OLD });
      await expect(certify(logits, labels, { lipschitzUpperBound: own, epsilons: [0.1] } as never)).rejects.toThrow(
        /^certify: lipschitzUpperBound is not an option; pass bound .* lacks the float32 safety factor/,
      );
      logits.dispose();
      for (const r of [byBound, byDeprecated]) {
        expect(r.certified).toEqual(report.certified);
        expect(r.lipschitzUpperBound).toBe(report.lipschitzUpperBound);
        expect(r.clean).toBe(report.clean);
        // deprecated aliases, same values, for one release
        expect(r.certifiedAccuracy).toEqual(r.certified);
        expect(r.lipschitz).toBe(r.lipschitzUpperBound);
      }
      expect(report.examples.certified).toEqual(report.certified);
      expect(report.examples.lipschitzUpperBound).toBe(report.lipschitzUpperBound);
      const z = tf.tensor2d([[1, 0]]);
      const y = tf.tensor1d([0], 'int32');
      await expect(certify(z, y, { epsilons: [0.1] } as never)).rejects.toThrow(/^certify: give exactly one of bound/);
      await expect(certify(z, y, { bound: report.bound, lipschitz: 1, epsilons: [0.1] })).rejects.toThrow(/^certify: give exactly one of bound/);
      tf.dispose([z, y]);
    } finally {
      model.dispose();
      tf.dispose([images, labels]);
    }
  });

  it('a float-error allowance δ(x) is subtracted twice from the margin (the floatErrorBound hook)', async () => {
    const net = unitConvNet(3);
    const images = tf.randomUniform([5, 6, 6, 2], 0, 1, 'float32', 2);
    const labels = tf.tensor1d([0, 1, 2, 3, 4], 'int32');
    const plain = await certifyExportedModel(net, images, labels, { epsilons: [0], floatErrorModel: OLD });
    const seen: number[] = [];
    const withDelta = await certifyExportedModel(net, images, labels, {
      epsilons: [0],
      batchSize: 2,
      floatErrorModel: OLD,
      floatErrorBound: ({ images: batch, offset, network, logits }) => {
        seen.push(offset);
        expect(network.layers.length).toBe(7);
        expect(logits.length).toBe(batch.shape[0] * 10);
        return Array.from({ length: batch.shape[0] }, (_, i) => plain.examples.margins[offset + i] / 4);
      },
    });
    expect(seen).toEqual([0, 2, 4]);
    for (let i = 0; i < 5; i++) expect(withDelta.examples.radii[i]).toBeCloseTo(plain.examples.radii[i] / 2, 12);
    tf.dispose([images, labels]);
  });
});
