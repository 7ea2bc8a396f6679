import { describeBackends, expectNoLeaks } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { blobs, hingeLoss, tinyModel } from '../test/fixtures';
import { shuffledBatches } from './batches';
import { createOptimizer } from './optimizer';
import { trainStep } from './train-step';

describeBackends('trainStep', () => {
  it('lowers the loss, reads it only when asked, and calls afterStep with the step', async () => {
    const model = tinyModel({ seed: 2 });
    const optimizer = createOptimizer({ kind: 'adam', learningRate: 0.05 });
    const [{ x, y }] = [...shuffledBatches(blobs(60), { batchSize: 60 })];
    const loss = hingeLoss();
    const first = await trainStep(model, optimizer, x, y, loss, { readLoss: true });
    expect(await trainStep(model, optimizer, x, y, loss)).toBeUndefined();
    for (let i = 0; i < 30; i++) await trainStep(model, optimizer, x, y, loss);
    const last = await trainStep(model, optimizer, x, y, loss, { readLoss: true, step: 99 });
    expect(first).toBeGreaterThan(0);
    expect(last).toBeLessThan((first as number) * 0.5);
    expect(model.afterSteps.slice(0, 3)).toEqual([1, 2, 3]);
    expect(model.afterSteps.at(-1)).toBe(99);
    tf.dispose([x, y]);
    optimizer.dispose();
    model.dispose();
  });

  it('leaks no tensors per step', async () => {
    const model = tinyModel();
    const optimizer = createOptimizer({ kind: 'rmsprop', learningRate: 1e-3 });
    const [{ x, y }] = [...shuffledBatches(blobs(16), { batchSize: 16 })];
    await expectNoLeaks(() => trainStep(model, optimizer, x, y, hingeLoss(), { readLoss: true }));
    tf.dispose([x, y]);
    optimizer.dispose();
    model.dispose();
  });

  it('rejects bad arguments', async () => {
    const model = tinyModel();
    const optimizer = createOptimizer({ kind: 'adam' });
    const x = tf.zeros([2, 1, 2, 1]);
    const y = tf.tensor1d([0, 1], 'int32');
    await expect(trainStep(model, optimizer, x, y, hingeLoss(), { step: 0 })).rejects.toThrow(/^trainStep: step must be a positive integer, got 0/);
    await expect(trainStep(model, optimizer, x, y, null as never)).rejects.toThrow(/^trainStep: loss must be a function/);
    tf.dispose([x, y]);
    optimizer.dispose();
    model.dispose();
  });
});
