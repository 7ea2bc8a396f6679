/**
 * What is tested: building an app's CLI with the shared tsup preset (`cliBundleConfig`) writes dist/cli.js
 * and leaves every other file of dist/ alone — a web page built into dist/web and a model a user copied
 * there survive `pnpm --filter @lipschitz/robustness-app build` (issue 17: the build used to empty dist/).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'tsup';
import { afterAll, expect, it } from 'vitest';
import { cliBundleConfig } from '../tsup.js';

const dir = mkdtempSync(join(tmpdir(), 'tsup-preset-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('the CLI build keeps dist/web and the files a user put there', async () => {
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'src', 'cli.ts'), "process.stdout.write('hello\\n');\n");
  mkdirSync(join(dir, 'dist', 'web'), { recursive: true });
  writeFileSync(join(dir, 'dist', 'web', 'model.json'), '{"format":"lipschitz-model/1"}');
  writeFileSync(join(dir, 'dist', 'cli.js'), 'stale');
  let copiedTo = '';
  const config = cliBundleConfig(dir, {
    nodeBundleOptions: () => ({ target: 'node20', mainFields: ['module', 'main'], banner: { js: '' } }),
    copyWasmBinaries: (out: string) => {
      copiedTo = out;
    },
  });
  await build({ ...config, entry: { cli: join(dir, 'src', 'cli.ts') }, outDir: join(dir, 'dist'), config: false, silent: true });
  expect(readFileSync(join(dir, 'dist', 'web', 'model.json'), 'utf8')).toBe('{"format":"lipschitz-model/1"}');
  expect(readFileSync(join(dir, 'dist', 'cli.js'), 'utf8')).toContain('hello');
  expect(existsSync(join(dir, 'dist', 'cli.js.map'))).toBe(true);
  expect(copiedTo).toBe(join(dir, 'dist'));
});
