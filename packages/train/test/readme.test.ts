import { join } from 'node:path';
import { runReadmeQuickstart } from '@lipschitz/test-utils';
import { expect, it } from 'vitest';
import type { EpochMetrics } from '../src';

it('README quickstart trains a small Björck network and reports accuracies', async () => {
  const { history, best } = (await runReadmeQuickstart(join(import.meta.dirname, '..', 'README.md'))) as {
    history: EpochMetrics[];
    best: EpochMetrics;
  };
  expect(history.map((m) => m.epoch)).toEqual([0, 1, 2, 3]);
  expect(history[3].trainLoss as number).toBeLessThan(history[1].trainLoss as number);
  expect(best.testAccuracy).toBeGreaterThan(0.5);
  expect(best.certified?.['0.05']).toBeGreaterThanOrEqual(0);
  expect(best.lipschitzUpperBound).toBeGreaterThan(0.5);
});
