/**
 * What is tested: the install line of every package README names every @lipschitz package its examples
 * import (a user who copies the line, then the quickstart, has everything), and @tensorflow/tfjs-core.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect, it } from 'vitest';

const packagesDir = resolve(import.meta.dirname, '..', '..', 'packages');

it('each package README installs every @lipschitz package its examples import', () => {
  const missing: string[] = [];
  let checked = 0;
  for (const dir of readdirSync(packagesDir)) {
    const pkg = JSON.parse(readFileSync(join(packagesDir, dir, 'package.json'), 'utf8')) as { name: string; private?: boolean };
    if (pkg.private) continue;
    const readme = readFileSync(join(packagesDir, dir, 'README.md'), 'utf8');
    const install = /^pnpm add (.*)$/m.exec(readme);
    if (!install) {
      missing.push(`${dir}/README.md has no "pnpm add" line`);
      continue;
    }
    const installed = new Set(install[1].split(/\s+/));
    const imported = new Set([pkg.name, '@tensorflow/tfjs-core', ...[...readme.matchAll(/from '(@lipschitz\/[a-z-]+)'/g)].map((m) => m[1])]);
    for (const name of imported) if (!installed.has(name)) missing.push(`${dir}/README.md: ${name} is imported but not installed`);
    checked++;
  }
  expect(checked).toBeGreaterThanOrEqual(10);
  expect(missing).toEqual([]);
});
