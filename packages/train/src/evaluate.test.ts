import { certifyExportedModel, certifyModel } from '@lipschitz/certify';
import { type ExportedModel, MODEL_FORMAT } from '@lipschitz/core';
import { moduleLipschitzBound } from '@lipschitz/model-format';
import { describeBackends, expectNoLeaks } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { blobs, hingeLoss, tinyModel } from '../test/fixtures';
import { evaluate } from './evaluate';

const OLD = 'assume-relative-1e-5' as const;

/** Host oracle: logits of the whole set (one forward), then accuracy and margins in float64. */
async function oracle(model: ReturnType<typeof tinyModel>, set: ReturnType<typeof blobs>) {
  const x = tf.tensor4d(set.images, [set.count, set.height, set.width, set.channels]);
  const logits = model.apply(x);
  const z = await logits.data();
  tf.dispose([x, logits]);
  const c = set.numClasses;
  let correct = 0;
  const margins: number[] = [];
  for (let n = 0; n < set.count; n++) {
    const row = Array.from(z.subarray(n * c, (n + 1) * c));
    const t = set.labels[n];
    const others = Math.max(...row.filter((_, i) => i !== t));
    if (row.indexOf(Math.max(...row)) === t) correct++;
    margins.push(row[t] - others);
  }
  return { accuracy: correct / set.count, margins };
}

describeBackends('evaluate', () => {
  it('matches a host oracle for accuracy and certified accuracy under the old rule, batch by batch', async () => {
    const model = tinyModel({ seed: 4 });
    const set = blobs(37);
    const { accuracy, margins } = await oracle(model, set);
    const L = 0.9;
    const result = await evaluate(model, set, { batchSize: 10, epsilons: [0.01, 0.05], lipschitz: L, floatErrorModel: OLD });
    expect(result.floatErrorModel).toBe(OLD);
    expect(result.count).toBe(37);
    expect(result.accuracy).toBeCloseTo(accuracy, 12);
    for (const eps of [0.01, 0.05]) {
      const expected = margins.filter((m) => m > Math.SQRT2 * eps * L).length / set.count;
      expect(result.certified?.[String(eps)]).toBeCloseTo(expected, 12);
    }
    expect(result.lipschitzUpperBound).toBe(L);
    expect(result.accuracy).toBeGreaterThan(0);
    model.dispose();
  });

  it("uses the exact network's bound by default (the old rule the bound with the float32 slack), reports the mean loss, and honours limit", async () => {
    const model = tinyModel({ seed: 5 });
    const set = blobs(30);
    model.freeze();
    const bound = await moduleLipschitzBound(model, [1, 2, 1]);
    model.unfreeze();
    const a = await evaluate(model, set, { epsilons: [0.02], limit: 20, loss: hingeLoss() });
    expect(a.count).toBe(20);
    expect(a.floatErrorModel).toBe('rigorous');
    expect(a.lipschitzUpperBound).toBe(bound.lipschitzUpperBound);
    const old = await evaluate(model, set, { epsilons: [0.02], limit: 20, floatErrorModel: OLD });
    const b = await evaluate(model, set, { epsilons: [0.02], limit: 20, lipschitz: bound.assumedFloat32Bound, batchSize: 7, floatErrorModel: OLD });
    expect(old.lipschitzUpperBound).toBe(bound.assumedFloat32Bound);
    expect(old.certified).toEqual(b.certified);
    const x = tf.tensor4d(set.images.subarray(0, 40), [20, 1, 2, 1]);
    const y = tf.tensor1d(set.labels.subarray(0, 20), 'int32');
    const logits = model.apply(x);
    const full = hingeLoss()(logits, y);
    expect(a.meanLoss).toBeCloseTo((await full.data())[0], 5);
    tf.dispose([x, y, logits, full]);
    model.dispose();
  });

  it("counts exactly what certifyExportedModel and certifyModel count (float-sound), where the old rule counts more", async () => {
    // A seeded network with 2¹⁶ added to every class's bias: the exact argmax is unchanged, but the float32
    // error of the logits (≈ 1e-6 · 2¹⁶) is no longer negligible, so the two rules certify different sets.
    const model = tinyModel({ seed: 6 });
    tf.tidy(() => model.trainableVariables[3].assign(tf.fill([3], 2 ** 16)));
    const set = blobs(120, { seed: 3 });
    const epsilons = [1.58, 0.3, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002];
    const result = await evaluate(model, set, { epsilons, batchSize: 50 });
    const layers = await model.exportLayers([1, 2, 1]);
    const file: ExportedModel = { format: MODEL_FORMAT, input: { shape: [1, 2, 1], range: [0, 1] as [number, number] }, layers, lipschitzUpperBound: 0 };
    const images = tf.tensor4d(set.images, [set.count, 1, 2, 1]);
    const labels = tf.tensor1d(set.labels, 'int32');
    const fromFile = await certifyExportedModel(file, images, labels, { epsilons, batchSize: 50 });
    const fromModel = await certifyModel(model, images, labels, { epsilons, batchSize: 50, inputShape: [1, 2, 1] });
    const old = await evaluate(model, set, { epsilons, batchSize: 50, floatErrorModel: OLD });
    tf.dispose([images, labels]);
    expect(result.count).toBe(120);
    expect(result.accuracy).toBe(fromFile.clean);
    expect(result.accuracy).toBeGreaterThan(0);
    expect(result.lipschitzUpperBound).toBe(fromFile.lipschitzUpperBound);
    for (const eps of epsilons) {
      const key = String(eps);
      expect(result.certified?.[key], key).toBe(fromFile.certified[key]);
      expect(result.certified?.[key], key).toBe(fromModel.certified[key]);
    }
    // The test can tell the rules apart: the old rule certifies more at some radius (today's count would differ).
    const keys = epsilons.map(String);
    expect(keys.some((k) => (result.certified?.[k] as number) > 0)).toBe(true);
    expect(keys.some((k) => (old.certified?.[k] as number) > (result.certified?.[k] as number))).toBe(true);
    expect(keys.every((k) => (old.certified?.[k] as number) >= (result.certified?.[k] as number))).toBe(true);
    model.dispose();
  });

  it('refuses lipschitz with the default rule, an unknown rule, and a model that cannot export its layers', async () => {
    const model = tinyModel({ seed: 7 });
    const set = blobs(6);
    await expect(evaluate(model, set, { epsilons: [0.1], lipschitz: 1 })).rejects.toThrow(/^evaluate: lipschitz \(a caller's L\) goes with floatErrorModel: 'assume-relative-1e-5'/);
    await expect(evaluate(model, set, { epsilons: [0.1], floatErrorModel: 'exact' as never })).rejects.toThrow(/^evaluate: floatErrorModel must be 'rigorous' \(default\) or 'assume-relative-1e-5', got "exact"/);
    const opaque = { ...model, exportLayers: async () => [] };
    await expect(evaluate(opaque, set, { epsilons: [0.1] })).rejects.toThrow(/^evaluate: .*pass floatErrorModel: 'assume-relative-1e-5'/);
    const assumed = await evaluate(opaque, set, { epsilons: [0.1], floatErrorModel: OLD });
    expect(assumed.lipschitzUpperBound).toBe(await model.lipschitzUpperBound([1, 2, 1]));
    expect(model.frozen).toBe(false);
    model.dispose();
  });

  it('freezes during evaluation and restores the previous state', async () => {
    const model = tinyModel();
    const set = blobs(5);
    await evaluate(model, set);
    expect(model.freezeCalls).toBe(1);
    expect(model.frozen).toBe(false);
    model.freeze();
    await evaluate(model, set);
    expect(model.frozen).toBe(true);
    model.unfreeze();
    model.dispose();
  });

  it('leaks no tensors', async () => {
    const model = tinyModel();
    await expectNoLeaks(() => evaluate(model, blobs(25), { batchSize: 10, epsilons: [0.1], lipschitz: 1, loss: hingeLoss(), floatErrorModel: OLD }));
    await expectNoLeaks(() => evaluate(model, blobs(25), { batchSize: 10, epsilons: [0.1], loss: hingeLoss() }));
    await expectNoLeaks(() => evaluate(model, blobs(25), { epsilons: [0.1], limit: 0 }));
    model.dispose();
  });

  it('rejects bad options and wrong logits', async () => {
    const model = tinyModel({ classes: 3 });
    const set = blobs(6);
    await expect(evaluate(model, set, { batchSize: 0 })).rejects.toThrow(/^evaluate: batchSize must be a positive integer, got 0/);
    await expect(evaluate(model, set, { epsilons: [-1] })).rejects.toThrow(/^evaluate: epsilons\[i\] must be a finite number > 0, got -1/);
    await expect(evaluate(model, set, { lipschitz: 0 })).rejects.toThrow(/^evaluate: lipschitz must be a finite number > 0, got 0/);
    await expect(evaluate(model, { ...set, labels: new Int32Array(2) })).rejects.toThrow(/^evaluate: set has 12 pixel values and 2 labels/);
    await expect(evaluate(model, {} as never)).rejects.toThrow(/^evaluate: set must be an image set/);
    await expect(evaluate(model, { ...blobs(6, { classes: 4 }) })).rejects.toThrow(/^evaluate: the model must return logits of shape \[6, 4\], got \[6, 3\]/);
    expect(model.frozen).toBe(false);
    model.dispose();
  });
});
