import { fileURLToPath } from 'node:url';
import { runReadmeQuickstart } from '@lipschitz/test-utils';
import { expect, it } from 'vitest';

it('README quickstart runs and shows what it says', async () => {
  const result = await runReadmeQuickstart(fileURLToPath(new URL('../README.md', import.meta.url)));
  expect(result.error as number).toBeLessThan(1e-5);
  expect(result.agreement as number).toBeLessThan(1e-5);
  expect(result.gradShape).toEqual([64, 16]);
});
