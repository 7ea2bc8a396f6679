import { fileURLToPath } from 'node:url';
import { runReadmeQuickstart } from '@lipschitz/test-utils';
import { expect, it } from 'vitest';

it('README quickstart runs and shows what it says', async () => {
  const result = await runReadmeQuickstart(fileURLToPath(new URL('../README.md', import.meta.url)));
  expect(result.sameDraw).toBe(true);
  expect(result.roundTrip).toEqual([1.5, -2]);
  expect(result.gradient).toBe(3);
  expect(result.errorCode).toBe('INVALID_ARGUMENT');
});
