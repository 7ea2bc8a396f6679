import { fileURLToPath } from 'node:url';
import { runReadmeQuickstart } from '@lipschitz/test-utils';
import { expect, it } from 'vitest';

it('README quickstart: the Small BCOP network fits, saves, loads and certifies with a bound ≈ 1', async () => {
  const result = await runReadmeQuickstart(fileURLToPath(new URL('../README.md', import.meta.url)));
  expect(result.bound as number).toBeGreaterThanOrEqual(0.999);
  expect(result.bound as number).toBeLessThan(1.001);
  // 512 images, 16 steps: well above chance (10%), and certification needs correct predictions first.
  expect(result.clean as number).toBeGreaterThan(0.3);
  expect(result.certified as number).toBeGreaterThan(0);
  expect(result.certified as number).toBeLessThanOrEqual(result.clean as number);
  expect(result.sameAsSaved).toBe(0);
});
