import { fileURLToPath } from 'node:url';
import { runReadmeQuickstart } from '@lipschitz/test-utils';
import { expect, it } from 'vitest';

it('README quickstart validates, bounds and runs a file, and refuses an unknown field', async () => {
  const result = await runReadmeQuickstart(fileURLToPath(new URL('../README.md', import.meta.url)));
  expect(result.outputShape).toEqual([2]);
  // σ_max of the float32-rounded rotation is 1 + 3e-8; times (1 + 1e-12)·(1 + 1e-5) for the old rule
  expect(result.assumedBound).toBeGreaterThan(1 + 1e-5);
  expect(result.assumedBound).toBeLessThan(1 + 1e-5 + 1e-7);
  // the exact network's bound: times (1 + 1e-12) only
  expect(result.bound).toBeGreaterThanOrEqual(1);
  expect(result.bound).toBeLessThan(1 + 1e-7);
  const [a, b] = result.logits as number[];
  expect(a).toBeCloseTo(0.6, 6);
  expect(b).toBeCloseTo(-0.8, 6);
  expect(result.refused).toMatch(/^validateExportedModel: layer 0 \(dense\) has an unknown field "stride"/);
});
