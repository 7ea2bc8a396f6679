import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

describe('browser bundle', () => {
  it('bundles for the browser without Node built-ins (the run directory imports them only when opened)', async () => {
    const result = await build({
      entryPoints: [fileURLToPath(new URL('./index.ts', import.meta.url))],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      conditions: ['@lipschitz/source'],
      external: ['@tensorflow/tfjs-core'],
      write: false,
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    const code = result.outputFiles[0].text;
    expect(code).not.toMatch(/(from|import)\s*\(?\s*["']node:/);
    expect(code).not.toMatch(/require\(["']node:/);
    expect(code).toContain('function train');
  });
});
