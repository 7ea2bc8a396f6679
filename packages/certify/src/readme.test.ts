import { join } from 'node:path';
import { runReadmeQuickstart } from '@lipschitz/test-utils';
import { expect, it } from 'vitest';

it('the README quickstart runs and certifies what it says', async () => {
  const m = await runReadmeQuickstart(join(__dirname, '..', 'README.md'));
  expect(m.bound as number).toBeGreaterThanOrEqual(1);
  expect(m.bound as number).toBeLessThan(1.0001);
  const report = m.report as { clean: number; certified: Record<string, number> };
  expect(report.clean).toBe(1);
  expect(report.certified).toEqual({ '0.1': 1, '0.3': 0.5 });
  expect(m.brokenCertified).toBe(0);
});
