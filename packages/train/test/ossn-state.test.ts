import { bcopConv2d, bjorckDense, flatten, maxMin, relu, sequential, svcmConv2d } from '@lipschitz/layers';
import { describeBackends } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { type Checkpoint, type LossFunction, captureCheckpoint, evaluate, memoryRunStore, restoreCheckpoint, train } from '../src';
import { hingeLoss } from './fixtures';
import { ossnData, ossnNetwork } from './ossn-fixtures';

// OSSN keeps its power-iteration vector u and its factor max(σ̂, 1) as non-trainable state: the contract's
// `stateVariables`. A checkpoint must carry them, or a restored model evaluates w_best / factor(w_init).
const { trainSet, testSet } = ossnData();
const EPSILON = 0.05;

async function values(variables: readonly tf.Variable[]): Promise<number[][]> {
  return Promise.all(variables.map(async (v) => Array.from(await v.data())));
}

describeBackends(
  'OSSN state in checkpoints',
  () => {
    it("the best checkpoint of an OSSN run evaluates to exactly the accuracy and certified accuracy its log reports", async () => {
      const store = memoryRunStore();
      const trained = ossnNetwork();
      const result = await train({
        model: trained,
        trainSet,
        testSet,
        loss: hingeLoss() as LossFunction,
        optimizer: { kind: 'adam', learningRate: 0.05 },
        epochs: 3,
        batchSize: 16,
        seed: 2,
        epsilons: [EPSILON],
        store,
      });
      const best = result.best;
      expect(best).not.toBeNull();
      const fresh = ossnNetwork();
      const builtState = await values(fresh.stateVariables);
      const checkpoint = (await store.loadCheckpoint('best')) as Checkpoint;
      await restoreCheckpoint(fresh, null, checkpoint);
      const again = await evaluate(fresh, testSet, { epsilons: [EPSILON] });
      expect(again.lipschitzUpperBound).toBe(best?.lipschitzUpperBound);
      expect(again.accuracy).toBe(best?.testAccuracy);
      expect(again.certified).toEqual(best?.certified);
      // The state moved during training (otherwise this test could not tell a saved state from a fresh one).
      expect(checkpoint.manifest.tensors.filter((t) => t.role === 'state')).toHaveLength(2);
      expect(await values(fresh.stateVariables)).not.toEqual(builtState);
      trained.dispose();
      fresh.dispose();
    });

    it('an OSSN network resumed from a checkpoint continues bit for bit, state included', async () => {
      const settings = {
        trainSet,
        testSet,
        loss: hingeLoss() as LossFunction,
        optimizer: { kind: 'adam', learningRate: 0.05 } as const,
        epochs: 2,
        batchSize: 16,
        seed: 4,
        epsilons: [EPSILON],
        restoreBest: false,
      };
      const straight = ossnNetwork();
      const full = await train({ ...settings, model: straight });
      const store = memoryRunStore();
      const first = ossnNetwork();
      await train({ ...settings, model: first, store, epochs: 1 });
      first.dispose();
      const second = ossnNetwork();
      const resumed = await train({ ...settings, model: second, store, resume: true });
      expect(await values(second.trainableVariables)).toEqual(await values(straight.trainableVariables));
      expect(await values(second.stateVariables)).toEqual(await values(straight.stateVariables));
      expect(resumed.history.map((m) => m.certified)).toEqual(full.history.map((m) => m.certified));
      straight.dispose();
      second.dispose();
    });

    it('a checkpoint written before state was saved still loads: trainable variables only, the state left as built', async () => {
      const source = ossnNetwork();
      const optimizer = tf.train.adam(0.05);
      optimizer.minimize(() => tf.tidy(() => tf.sum(source.apply(tf.ones([2, 6, 6, 1])))));
      await source.afterStep?.(1);
      const current = await captureCheckpoint(source, optimizer, {});
      // The old layout: no modelConfig, no state entries (state was never found by the old duck typing).
      const decoded = tf.io.decodeWeights(current.weights, current.manifest.tensors.map((t) => t.spec));
      const kept = current.manifest.tensors.filter((t) => t.role !== 'state');
      const encoded = await tf.io.encodeWeights(kept.map((t) => ({ name: t.spec.name, tensor: decoded[t.spec.name] })));
      tf.dispose(Object.values(decoded));
      const { modelConfig: _dropped, ...oldManifest } = current.manifest;
      const legacy: Checkpoint = { manifest: { ...oldManifest, tensors: kept, byteLength: encoded.data.byteLength }, weights: encoded.data };

      const target = ossnNetwork();
      const builtState = await values(target.stateVariables);
      await restoreCheckpoint(target, null, legacy);
      expect(await values(target.trainableVariables)).toEqual(await values(source.trainableVariables));
      expect(await values(target.stateVariables)).toEqual(builtState);
      // The current layout restores the state too.
      await restoreCheckpoint(target, null, current);
      expect(await values(target.stateVariables)).toEqual(await values(source.stateVariables));
      optimizer.dispose();
      source.dispose();
      target.dispose();
    });

    it('refuses a checkpoint of another model configuration, naming the field', async () => {
      const ossn = ossnNetwork();
      const optimizer = tf.train.adam(0.01);
      const ossnCheckpoint = await captureCheckpoint(ossn, optimizer, {});
      // The same variable shapes (kernel 3×3×1×4, bias 4), another conv type.
      const svcm = sequential([
        svcmConv2d({ inChannels: 1, outChannels: 4, kernelSize: 3, inputSize: [6, 6], seed: 1 }),
        maxMin(),
        flatten(),
        bjorckDense({ inputs: 144, outputs: 4, seed: 2 }),
      ]);
      await expect(restoreCheckpoint(svcm, null, ossnCheckpoint)).rejects.toThrow(
        /^restoreCheckpoint: the checkpoint was saved from another model: its options\.layers\[0\]\.type is "ossnConv2d", this model's is "svcmConv2d"\. Build the model/,
      );
      // Identical variables, another activation.
      const bcop = (activation: 'maxmin' | 'relu') =>
        sequential([
          bcopConv2d({ inChannels: 1, outChannels: 4, kernelSize: 3, seed: 1 }),
          activation === 'maxmin' ? maxMin() : relu(),
          flatten(),
          bjorckDense({ inputs: 144, outputs: 4, seed: 2 }),
        ]);
      const withMaxMin = bcop('maxmin');
      const withRelu = bcop('relu');
      const bcopCheckpoint = await captureCheckpoint(withMaxMin, optimizer, {});
      const error = await restoreCheckpoint(withRelu, null, bcopCheckpoint).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'SHAPE_MISMATCH' });
      expect((error as Error).message).toMatch(/its options\.layers\[1\]\.type is "maxMin", this model's is "relu"/);
      // Another seed is the same architecture: the checkpoint overwrites what the seed chose.
      const reseeded = sequential([
        bcopConv2d({ inChannels: 1, outChannels: 4, kernelSize: 3, seed: 7 }),
        maxMin(),
        flatten(),
        bjorckDense({ inputs: 144, outputs: 4, seed: 8 }),
      ]);
      await restoreCheckpoint(reseeded, null, bcopCheckpoint);
      expect(await values(reseeded.trainableVariables)).toEqual(await values(withMaxMin.trainableVariables));
      optimizer.dispose();
      for (const m of [ossn, svcm, withMaxMin, withRelu, reseeded]) m.dispose();
    });
  },
  ['cpu'],
);
