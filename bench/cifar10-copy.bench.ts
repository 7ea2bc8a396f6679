import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
// The root package does not depend on @lipschitz/datasets, so import its sources directly.
import { imageFolder } from '../packages/datasets/src/index';
import { writeBenchResult } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { prepareBackend } from '../packages/backends/src/index';
import { certifyExportedModel } from '../packages/certify/src/index';
import { expect, test } from 'vitest';

// The lossy CIFAR-10 copy may not be committed, so this check is a benchmark, run where
// the copy is: `CIFAR10_COPY=/path/to/cifar10-jpeg-q75.tar.gz pnpm bench bench/cifar10-copy.bench.ts` (without the
// variable it records `measured: false`). It reads the whole test split and checks what the unit tests check on
// generated fixtures: the official class order, 32×32 RGB, pixel values in [0, 1]. The results name the copy by its
// file name only (no machine's path in the repository).
const COPY_VARIABLE = 'CIFAR10_COPY';
const CIFAR = process.env[COPY_VARIABLE];
const missing = (): string | null =>
  CIFAR === undefined ? `set ${COPY_VARIABLE} to the path of the CIFAR-10 copy` : existsSync(CIFAR) ? null : `no CIFAR-10 copy at ${CIFAR} (set ${COPY_VARIABLE})`;

test('imageFolder on the lossy CIFAR-10 copy: class order, shape, decode time', async () => {
  const absent = missing();
  if (absent !== null || CIFAR === undefined) {
    writeBenchResult('cifar10-copy', { measured: false, reason: absent });
    return;
  }
  const started = performance.now();
  const { train, test: testSet } = await imageFolder({ path: CIFAR, trainLimit: 20 });
  const ms = performance.now() - started;
  expect([train.height, train.width, train.channels, train.numClasses]).toEqual([32, 32, 3, 10]);
  expect(Array.from(train.labels)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  expect(testSet.count).toBe(10_000);
  const counts = new Array<number>(10).fill(0);
  for (const label of testSet.labels) counts[label]++;
  expect(counts).toEqual(new Array(10).fill(1000));
  const mean = testSet.images.reduce((s, v) => s + v, 0) / testSet.images.length;
  expect(mean).toBeGreaterThan(0.2);
  expect(mean).toBeLessThan(0.8);
  writeBenchResult('cifar10-copy', { measured: true, path: basename(CIFAR), testImages: testSet.count, testLabelCounts: counts, meanPixel: mean, decodeMs: Math.round(ms) });
}, 300_000);

// The zoo's CIFAR-10 models are certified on this copy, which the tests cannot read: this re-checks them to the
// numbers apps/robustness/models/zoo.json states (the tests re-check their bound only).
test('the zoo CIFAR-10 models re-check on the copy to the numbers of zoo.json', async () => {
  const zooDir = join(process.cwd(), 'apps/robustness/models');
  const index = JSON.parse(readFileSync(join(zooDir, 'zoo.json'), 'utf8')) as {
    models: Record<string, { file: string; dataset: string; certified: { count: number; clean: number; certified: Record<string, number>; lipschitzUpperBound: number } }>;
  };
  const entries = Object.entries(index.models).filter(([, e]) => e.dataset === 'cifar10');
  const absent = missing() ?? (entries.length === 0 ? 'no CIFAR-10 model in the zoo' : null);
  if (absent !== null || CIFAR === undefined) {
    writeBenchResult('cifar10-zoo', { measured: false, reason: absent });
    return;
  }
  await prepareBackend('wasm');
  const results: Record<string, unknown> = {};
  for (const [name, entry] of entries) {
    const { test: testSet } = await imageFolder({ path: CIFAR, trainLimit: 0, testLimit: entry.certified.count });
    const n = entry.certified.count;
    const images = tf.tensor4d(testSet.images.subarray(0, n * 32 * 32 * 3), [n, 32, 32, 3]);
    const labels = tf.tensor1d(testSet.labels.subarray(0, n), 'int32');
    try {
      const model = JSON.parse(readFileSync(join(zooDir, entry.file), 'utf8'));
      // certify.json names ε by its text; 0.1411764706 is the CLI's 36/255 exactly.
      const value = (text: string) => (text === '0.1411764706' ? 36 / 255 : Number(text));
      const texts = Object.keys(entry.certified.certified);
      const report = await certifyExportedModel(model, images, labels, { epsilons: texts.map(value) });
      const certified = Object.fromEntries(texts.map((text) => [text, report.certified[String(value(text))]]));
      expect(report.clean, name).toBe(entry.certified.clean);
      expect(certified, name).toEqual(entry.certified.certified);
      expect(report.lipschitzUpperBound, name).toBe(entry.certified.lipschitzUpperBound);
      results[name] = { clean: report.clean, certified, lipschitzUpperBound: report.lipschitzUpperBound };
    } finally {
      tf.dispose([images, labels]);
    }
  }
  writeBenchResult('cifar10-zoo', { measured: true, path: basename(CIFAR), models: results });
}, 600_000);
