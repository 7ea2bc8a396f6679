import { describeBackends, expectNoLeaks } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { blobs, hingeLoss, tinyModel } from '../test/fixtures';
import { evaluate } from './evaluate';

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
  it('matches a host oracle for accuracy and certified accuracy, batch by batch', async () => {
    const model = tinyModel({ seed: 4 });
    const set = blobs(37);
    const { accuracy, margins } = await oracle(model, set);
    const L = 0.9;
    const result = await evaluate(model, set, { batchSize: 10, epsilons: [0.01, 0.05], lipschitz: L });
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

  it("uses the model's bound by default, reports the mean loss, and honours limit", async () => {
    const model = tinyModel({ seed: 5 });
    const set = blobs(30);
    const L = await model.lipschitzUpperBound([1, 2, 1]);
    const a = await evaluate(model, set, { epsilons: [0.02], limit: 20, loss: hingeLoss() });
    const b = await evaluate(model, set, { epsilons: [0.02], limit: 20, lipschitz: L, batchSize: 7 });
    expect(a.count).toBe(20);
    expect(a.lipschitzUpperBound).toBe(L);
    expect(a.certified).toEqual(b.certified);
    const x = tf.tensor4d(set.images.subarray(0, 40), [20, 1, 2, 1]);
    const y = tf.tensor1d(set.labels.subarray(0, 20), 'int32');
    const logits = model.apply(x);
    const full = hingeLoss()(logits, y);
    expect(a.meanLoss).toBeCloseTo((await full.data())[0], 5);
    tf.dispose([x, y, logits, full]);
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
    await expectNoLeaks(() => evaluate(model, blobs(25), { batchSize: 10, epsilons: [0.1], lipschitz: 1, loss: hingeLoss() }));
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
