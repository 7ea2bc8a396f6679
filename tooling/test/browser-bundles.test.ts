/**
 * What is tested: every public package's main entry bundles for the browser (esbuild, platform browser)
 * without pulling in a Node built-in — their Node-only file I/O loads `node:*` modules on demand through
 * `importNodeModule` of @lipschitz/core, which bundlers leave alone.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const packagesDir = join(import.meta.dirname, '..', '..', 'packages');
const publicPackages = readdirSync(packagesDir).filter((dir) => {
  const pkg = JSON.parse(readFileSync(join(packagesDir, dir, 'package.json'), 'utf8'));
  return !pkg.private;
});

describe('browser bundles', () => {
  it('covers every public package', () => {
    expect(publicPackages.length).toBe(12);
  });

  for (const dir of publicPackages) {
    it(`@lipschitz/${dir} bundles for the browser without Node built-ins`, async () => {
      const result = await build({
        entryPoints: [join(packagesDir, dir, 'src', 'index.ts')],
        bundle: true,
        platform: 'browser',
        format: 'esm',
        conditions: ['@lipschitz/source'],
        external: ['@tensorflow/*'],
        write: false,
        logLevel: 'silent',
      });
      expect(result.errors).toEqual([]);
      const code = result.outputFiles[0].text;
      expect(code).not.toMatch(/(from|import)\s*\(?\s*["']node:/);
      expect(code).not.toMatch(/require\(["']node:/);
    });
  }
});
