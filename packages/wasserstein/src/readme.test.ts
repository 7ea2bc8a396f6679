import { fileURLToPath } from 'node:url';
import { runReadmeQuickstart } from '@lipschitz/test-utils';
import { expect, it } from 'vitest';

it('README quickstart: exact W1 of a translated set is its translation, the estimate is close below', async () => {
  const result = await runReadmeQuickstart(fileURLToPath(new URL('../README.md', import.meta.url)));
  expect(result.exact).toBeCloseTo(3, 10);
  expect(Math.abs((result.estimate as number) - 3)).toBeLessThan(0.3);
});
