import { fileURLToPath } from 'node:url';
import { runReadmeQuickstart } from '@lipschitz/test-utils';
import { describe, expect, it } from 'vitest';

describe('README quickstart', () => {
  it('runs and batches the first 1,000 MNIST images', async () => {
    const { result } = await runReadmeQuickstart(fileURLToPath(new URL('../README.md', import.meta.url)));
    expect(result).toEqual({ seen: 1000, batchCount: 8, testCount: 10000, firstLabel: 5 });
  });
});
