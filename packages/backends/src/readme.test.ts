import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runReadmeQuickstart } from '@lipschitz/test-utils';
import { expect, it } from 'vitest';

it('README quickstart runs: auto picks wasm in plain Node and a strided conv trains on it', async () => {
  const readme = join(dirname(fileURLToPath(import.meta.url)), '..', 'README.md');
  const { result } = (await runReadmeQuickstart(readme)) as { result: { backend: string; reason: string; loss: number; gradientShape: number[] } };
  expect(result.backend).toBe('wasm');
  expect(result.reason).toMatch(/^auto in Node .*chose wasm/);
  expect(result.loss).toBeGreaterThan(0);
  expect(Number.isFinite(result.loss)).toBe(true);
  expect(result.gradientShape).toEqual([3, 3, 4, 8]);
});
