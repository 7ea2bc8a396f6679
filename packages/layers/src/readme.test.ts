import { join } from 'node:path';
import { runReadmeQuickstart } from '@lipschitz/test-utils';
import { expect, it } from 'vitest';

it('README quickstart runs and its numbers hold', async () => {
  const exports = await runReadmeQuickstart(join(import.meta.dirname, '..', 'README.md'));
  expect(exports.logitsShape).toEqual([8, 10]);
  expect(exports.bound as number).toBeGreaterThan(0.999);
  expect(exports.bound as number).toBeLessThan(1 + 1e-4);
  expect((exports.exported as { format: string }).format).toBe('lipschitz-model/1');
});
