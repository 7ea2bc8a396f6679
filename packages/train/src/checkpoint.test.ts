import { describeBackends, expectNoLeaks } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { blobs, hingeLoss, snapshot, tinyModel } from '../test/fixtures';
import { shuffledBatches } from './batches';
import { captureCheckpoint, restoreCheckpoint } from './checkpoint';
import { type OptimizerSpec, createOptimizer } from './optimizer';
import { trainStep } from './train-step';

async function steps(model: ReturnType<typeof tinyModel>, optimizer: tf.Optimizer, n: number, seed: number) {
  let i = 0;
  for (const { x, y } of shuffledBatches(blobs(40), { batchSize: 8, shuffle: true, seed })) {
    if (i++ < n) await trainStep(model, optimizer, x, y, hingeLoss());
    tf.dispose([x, y]);
  }
}

describeBackends('captureCheckpoint / restoreCheckpoint', () => {
  for (const spec of [{ kind: 'adam', learningRate: 0.01 }, { kind: 'rmsprop', learningRate: 0.01, momentum: 0.5 }] as OptimizerSpec[]) {
    it(`${spec.kind}: a restored copy continues bit-for-bit like the original`, async () => {
      const a = tinyModel({ seed: 1 });
      const optA = createOptimizer(spec);
      await steps(a, optA, 5, 11);
      const checkpoint = await captureCheckpoint(a, optA, { note: 'x' });
      expect(checkpoint.manifest.meta).toEqual({ note: 'x' });
      expect(checkpoint.manifest.byteLength).toBe(checkpoint.weights.byteLength);

      const b = tinyModel({ seed: 99 });
      const optB = createOptimizer(spec);
      await restoreCheckpoint(b, optB, checkpoint);
      expect(await snapshot(b)).toEqual(await snapshot(a));
      await steps(a, optA, 5, 12);
      await steps(b, optB, 5, 12);
      expect(await snapshot(b)).toEqual(await snapshot(a));
      expect(optB.iterations).toBe(optA.iterations);
      optA.dispose();
      optB.dispose();
      a.dispose();
      b.dispose();
    });
  }

  it('restores model variables only when the optimizer is null, and leaks nothing', async () => {
    const a = tinyModel({ seed: 1 });
    const opt = createOptimizer({ kind: 'adam' });
    await steps(a, opt, 2, 1);
    const checkpoint = await captureCheckpoint(a, opt, {});
    const b = tinyModel({ seed: 2 });
    await expectNoLeaks(async () => {
      await restoreCheckpoint(b, null, checkpoint);
      const fresh = createOptimizer({ kind: 'adam' });
      await restoreCheckpoint(b, fresh, checkpoint);
      fresh.dispose();
      await captureCheckpoint(b, opt, {});
    });
    expect(await snapshot(b)).toEqual(await snapshot(a));
    opt.dispose();
    a.dispose();
    b.dispose();
  });

  it('refuses non-finite weights, mismatched models and optimizers, and corrupt data', async () => {
    const a = tinyModel({ seed: 1, hidden: 4 });
    const opt = createOptimizer({ kind: 'adam' });
    await steps(a, opt, 1, 1);
    const checkpoint = await captureCheckpoint(a, opt, {});
    const wider = tinyModel({ hidden: 5 });
    await expect(restoreCheckpoint(wider, null, checkpoint)).rejects.toThrow(
      /^restoreCheckpoint: trainable variable 0 has shape \[2, 5\] but the checkpoint has \[2, 4\]/,
    );
    const used = createOptimizer({ kind: 'adam' });
    await steps(a, used, 1, 2);
    const b = tinyModel({ hidden: 4 });
    await expect(restoreCheckpoint(b, used, checkpoint)).rejects.toThrow(/^restoreCheckpoint: the optimizer has already taken steps/);
    const rms = createOptimizer({ kind: 'rmsprop' });
    await expect(restoreCheckpoint(b, rms, checkpoint)).rejects.toThrow(/^restoreCheckpoint: the checkpoint holds Adam state but the optimizer is RMSProp/);
    await expect(restoreCheckpoint(b, null, { ...checkpoint, weights: checkpoint.weights.slice(4) })).rejects.toThrow(
      /^restoreCheckpoint: the weights have \d+ bytes but the manifest says \d+/,
    );
    await expect(restoreCheckpoint(b, null, { manifest: {}, weights: new ArrayBuffer(0) } as never)).rejects.toMatchObject({ code: 'CORRUPT_DATA' });
    a.trainableVariables[1].assign(tf.fill([4], Number.NaN));
    await expect(captureCheckpoint(a, opt, {})).rejects.toThrow(/^captureCheckpoint: trainable\/1 contains NaN; training diverged/);
    for (const o of [opt, used, rms]) o.dispose();
    for (const m of [a, b, wider]) m.dispose();
  });
});
