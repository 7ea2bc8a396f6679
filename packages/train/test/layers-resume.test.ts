import { batches, subset, syntheticImages } from '@lipschitz/datasets';
import { bjorckDense, flatten, maxMin, sequential } from '@lipschitz/layers';
import { moduleLipschitzBound } from '@lipschitz/model-format';
import { describeBackends } from '@lipschitz/test-utils';
import { expect, it } from 'vitest';
import { type LossFunction, type TrainOptions, memoryRunStore, train } from '../src';
import { hingeLoss, reproducible } from './fixtures';

// Cross-package: a real @lipschitz/layers network, batches from @lipschitz/datasets, exact resume.
const data = syntheticImages({ count: 80, height: 4, width: 4, channels: 1, numClasses: 4, seed: 0 });
const trainSet = subset(data, 0, 64);
const testSet = subset(data, 64, 16);

function network() {
  return sequential([flatten(), bjorckDense({ inputs: 16, outputs: 8, seed: 1 }), maxMin(), bjorckDense({ inputs: 8, outputs: 4, seed: 2 })]);
}

const settings = (overrides: Partial<TrainOptions>): TrainOptions => ({
  model: overrides.model ?? network(),
  trainSet,
  testSet,
  loss: hingeLoss() as LossFunction,
  optimizer: { kind: 'adam', learningRate: 0.01 },
  epochs: 2,
  batchSize: 32,
  seed: 4,
  epsilons: [0.05],
  restoreBest: false,
  batcher: (set, options) => batches(set as never, options),
  ...overrides,
});

async function weights(model: { trainableVariables: { data(): Promise<ArrayLike<number>> }[] }) {
  return Promise.all(model.trainableVariables.map(async (v) => Array.from(await v.data())));
}

describeBackends('train with @lipschitz/layers and @lipschitz/datasets', () => {
  it('resumes a Björck network exactly, and reports the network bound it certifies with', async () => {
    const straight = network();
    const full = await train(settings({ model: straight }));
    const store = memoryRunStore();
    const first = network();
    await train(settings({ model: first, store, epochs: 1 }));
    first.dispose();
    // Same architecture config (the layer seeds also fix Björck's power-iteration start), fresh objects.
    const second = network();
    const resumed = await train(settings({ model: second, store, resume: true }));
    expect(await weights(second)).toEqual(await weights(straight));
    expect(reproducible(resumed.history)).toEqual(reproducible(full.history));
    const last = full.history[full.history.length - 1];
    straight.freeze(); // as evaluate and certify do
    expect(last.lipschitzUpperBound).toBe((await moduleLipschitzBound(straight, [4, 4, 1])).lipschitzUpperBound); // the bound certify uses
    straight.unfreeze();
    expect(last.lipschitzUpperBound as number).toBeLessThan(1.001);
    straight.dispose();
    second.dispose();
  });
});
