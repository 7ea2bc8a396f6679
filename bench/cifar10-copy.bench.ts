import { existsSync } from 'node:fs';
import { join } from 'node:path';
// The root package does not depend on @lipschitz/datasets, so import its sources directly.
import { imageFolder } from '../packages/datasets/src/index';
import { writeBenchResult } from '@lipschitz/test-utils';
import { expect, test } from 'vitest';

// The lossy CIFAR-10 copy may not be committed, so this check is a benchmark, run where
// the copy is: `CIFAR10_COPY=/path/to/cifar10-jpeg-q75.tar.gz pnpm bench bench/cifar10-copy.bench.ts` (default:
// ../shared/data beside the checkout). It reads the whole test split and checks what the unit tests check on
// generated fixtures: the official class order, 32×32 RGB, pixel values in [0, 1].
const COPY_VARIABLE = 'CIFAR10_COPY';
const CIFAR = process.env[COPY_VARIABLE] ?? join(process.cwd(), '../shared/data/cifar10-jpeg-q75.tar.gz');

test('imageFolder on the lossy CIFAR-10 copy: class order, shape, decode time', async () => {
  if (!existsSync(CIFAR)) {
    writeBenchResult('cifar10-copy', { measured: false, reason: `no CIFAR-10 copy at ${CIFAR} (set CIFAR10_COPY)` });
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
  writeBenchResult('cifar10-copy', { measured: true, path: CIFAR, testImages: testSet.count, testLabelCounts: counts, meanPixel: mean, decodeMs: Math.round(ms) });
}, 300_000);
