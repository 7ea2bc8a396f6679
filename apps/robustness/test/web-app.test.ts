// The web page's logic (web/app.ts) in Node, without a browser: certification equals
// certifyExportedModel of @lipschitz/certify, training gives finite losses, and neither leaks tensors.
import { certifyExportedModel } from '@lipschitz/certify';
import type { ExportedModel } from '@lipschitz/core';
import { type ImageSet, mnist } from '@lipschitz/datasets';
import { exportModel, smallConvNet } from '@lipschitz/layers';
import { describeBackends, expectNoLeaks } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, expect, it } from 'vitest';
import { MNIST_SHAPE, certifyExported, trainInBrowser } from '../web/app';

const COUNT = 24;
let exported: ExportedModel;
let test: ImageSet;
let train: ImageSet;

beforeAll(async () => {
  ({ test, train } = await mnist({ trainLimit: 64, testLimit: COUNT }));
});

describeBackends('web page logic', (backend) => {
  beforeAll(async () => {
    const model = smallConvNet({ conv: 'bcop', inputShape: MNIST_SHAPE, seed: 3 });
    try {
      model.freeze();
      exported = JSON.parse(JSON.stringify(await exportModel(model, { inputShape: MNIST_SHAPE })));
    } finally {
      model.dispose();
    }
  });

  it('certifyExported gives the certificates of certifyExportedModel on the first N images, batch by batch', async () => {
    const images = tf.tensor4d(test.images.subarray(0, COUNT * 784), [COUNT, 28, 28, 1]);
    const labels = tf.tensor1d(test.labels.subarray(0, COUNT), 'int32');
    const reference = await certifyExportedModel(exported, images, labels, { epsilons: [1.58, 0.3] });
    tf.dispose([images, labels]);
    const mine = await certifyExported(exported, test, COUNT, 10); // batches of 10, 10, 4
    expect(mine.count).toBe(COUNT);
    expect(mine.labels).toEqual(Array.from(test.labels.subarray(0, COUNT)));
    expect(mine.lipschitzUpperBound).toBe(reference.lipschitzUpperBound);
    expect(mine.clean).toBe(reference.clean);
    expect(mine.certified).toEqual({ '1.58': reference.certified['1.58'], '0.3': reference.certified['0.3'] });
    expect(mine.predictions).toEqual(Array.from(reference.examples.predictions));
    for (let i = 0; i < COUNT; i++) {
      expect(Math.abs(mine.margins[i] - reference.examples.margins[i])).toBeLessThanOrEqual(1e-5);
      // the float-sound radius: never above margin / (√2·L), and equal to certifyExportedModel's
      expect(mine.radii[i]).toBeLessThanOrEqual(mine.margins[i] / (Math.SQRT2 * mine.lipschitzUpperBound));
      expect(mine.radii[i]).toBeCloseTo(reference.examples.radii[i], 12);
    }
  });

  it('certifyExported leaves no tensors behind, and refuses a file that is not lipschitz-model/1', async () => {
    await expectNoLeaks(() => certifyExported(exported, test, 12, 5));
    await expect(certifyExported({ ...exported, format: 'other' } as unknown as ExportedModel, test, 4)).rejects.toThrow(/lipschitz-model\/1/);
  });

  if (backend === 'wasm') {
    it('trainInBrowser trains BCOP Small with finite losses and returns a certifiable export, without leaks', async () => {
      const before = tf.memory().numTensors;
      const steps: number[] = [];
      const result = await trainInBrowser(train, { images: 64, batchSize: 32, epochs: 2, onStep: (step) => steps.push(step) });
      expect(tf.memory().numTensors).toBe(before);
      expect(result.steps).toBe(4);
      expect(steps).toEqual([1, 2, 3, 4]);
      expect(result.losses).toHaveLength(4);
      for (const loss of result.losses) expect(Number.isFinite(loss) && loss > 0).toBe(true);
      expect(result.exported.format).toBe('lipschitz-model/1');
      const certified = await certifyExported(result.exported, test, 8);
      expect(certified.lipschitzUpperBound).toBeGreaterThan(0.99);
      expect(certified.lipschitzUpperBound).toBeLessThan(1.001);
    });
  }
});
