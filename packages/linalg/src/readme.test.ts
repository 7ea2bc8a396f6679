import { fileURLToPath } from 'node:url';
import { runReadmeQuickstart } from '@lipschitz/test-utils';
import { expect, it } from 'vitest';

it('README quickstart runs and shows what it says', async () => {
  const result = await runReadmeQuickstart(fileURLToPath(new URL('../README.md', import.meta.url)));
  expect(result.norm).toBeCloseTo(4, 14);
  expect(result.convNorm).toBeCloseTo(1, 14);
  const solution = result.solution as number[];
  expect(solution[0]).toBeCloseTo(0.8, 5);
  expect(solution[1]).toBeCloseTo(1.4, 5);
  const sigmaMax = (5 + Math.sqrt(5)) / 2;
  expect(result.estimate as number).toBeLessThanOrEqual(sigmaMax * (1 + 1e-6));
  expect(result.estimate as number).toBeGreaterThan(sigmaMax * (1 - 1e-4));
});
