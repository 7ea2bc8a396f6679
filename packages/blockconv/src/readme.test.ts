import { fileURLToPath } from 'node:url';
import { runReadmeQuickstart } from '@lipschitz/test-utils';
import { expect, it } from 'vitest';

it('README quickstart builds an orthogonal BCOP convolution', async () => {
  const result = await runReadmeQuickstart(fileURLToPath(new URL('../README.md', import.meta.url)));
  expect(Math.abs((result.sigmaMax as number) - 1)).toBeLessThan(1e-5);
  expect(Math.abs((result.sigmaMin as number) - 1)).toBeLessThan(1e-5);
  expect(Math.abs((result.normRatio as number) - 1)).toBeLessThan(1e-5);
});
