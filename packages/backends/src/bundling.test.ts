import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build, type Plugin } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { copyWasmBinaries, nodeBundleOptions, WASM_BINARY_FILES, wasmBinaryDirectory } from './bundling';

const run = promisify(execFile);
const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = join(packageDir, '..', '..');

// A tiny CLI: conv2d gradient on wasm, printed as JSON. x and w are fixed so the test can compute the
// exact filter gradient itself.
const SCRIPT = `
import * as tf from '@tensorflow/tfjs-core';
import { prepareBackend } from '@lipschitz/backends';
const prepared = await prepareBackend('wasm');
const x = tf.tensor4d(Array.from({ length: 2 * 4 * 5 * 3 }, (_, i) => (i % 7) - 3), [2, 4, 5, 3]);
const w = tf.tensor4d(Array.from({ length: 3 * 3 * 3 * 2 }, (_, i) => (i % 5) / 4 - 0.5), [3, 3, 3, 2]);
const dw = tf.grad((v) => tf.sum(tf.conv2d(x, v, 1, 'same')))(w);
console.log(JSON.stringify({ backend: prepared.backend, shape: dw.shape, values: Array.from(await dw.data()) }));
`;

/** Exact dW of Σ conv2d(x, w, stride 1, 'same') for the SCRIPT's x (3×3 kernel, pad 1): Σ_{b,i,j} x[b, i+p-1, j+q-1, c], the same for every output channel. */
function expectedFilterGradient(): number[] {
  const [b, h, w, c, o] = [2, 4, 5, 3, 2];
  const x = (bi: number, i: number, j: number, ci: number) => ((((bi * h + i) * w + j) * c + ci) % 7) - 3;
  const out: number[] = [];
  for (let p = 0; p < 3; p++)
    for (let q = 0; q < 3; q++)
      for (let ci = 0; ci < c; ci++) {
        let sum = 0;
        for (let bi = 0; bi < b; bi++)
          for (let i = 0; i < h; i++)
            for (let j = 0; j < w; j++) {
              const ii = i + p - 1;
              const jj = j + q - 1;
              if (ii >= 0 && ii < h && jj >= 0 && jj < w) sum += x(bi, ii, jj, ci);
            }
        for (let oi = 0; oi < o; oi++) out.push(sum);
      }
  return out;
}

async function runBundle(file: string): Promise<{ backend: string; shape: number[]; values: number[] }> {
  const { stdout } = await run(process.execPath, [file], { cwd: dirname(file), timeout: 60_000 });
  return JSON.parse(stdout.trim().split('\n').pop() as string);
}

function expectGradient(result: { backend: string; shape: number[]; values: number[] }): void {
  expect(result.backend).toBe('wasm');
  expect(result.shape).toEqual([3, 3, 3, 2]);
  const expected = expectedFilterGradient();
  expect(result.values).toHaveLength(expected.length);
  for (let i = 0; i < expected.length; i++) expect(Math.abs(result.values[i] - expected[i])).toBeLessThanOrEqual(1e-4);
}

// Every bundled copy of tfjs-core (its ESM engine.js or its CJS tf-core.node.js) defines getOrMakeEngine
// once (esbuild renames later copies getOrMakeEngine2, ...).
function copiesOfEngine(code: string): number {
  return code.match(/function getOrMakeEngine\d*\(/g)?.length ?? 0;
}

const stdin = { contents: SCRIPT, resolveDir: repoRoot, loader: 'ts' as const, sourcefile: 'cli.ts' };
const conditions = ['@lipschitz/source'];
const temporary: string[] = [];
afterAll(() => {
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

describe('bundling recipes (the built path, run with plain node)', () => {
  it('nodeBundleOptions(): a self-contained ESM CLI with ONE copy of tfjs-core and the .wasm files copied beside it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lipschitz-bundle-'));
    temporary.push(dir);
    const outfile = join(dir, 'cli.mjs');
    await build({ ...nodeBundleOptions(), stdin, outfile, conditions, logLevel: 'error' });
    expect(copiesOfEngine(readFileSync(outfile, 'utf8'))).toBe(1);
    const copied = copyWasmBinaries(dir);
    expect(copied.map((f) => f.slice(dir.length + 1))).toEqual([...WASM_BINARY_FILES]);
    expectGradient(await runBundle(outfile));
  });

  it("tfjs kept external, only tfjs-core's gradient module bundled (this package's dist recipe)", async () => {
    // Inside node_modules (ignored by git) so the external tfjs packages resolve like an installed app's.
    const dir = join(packageDir, 'node_modules', '.cache', `lipschitz-bundle-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    temporary.push(dir);
    const externalButGradients: Plugin = {
      name: 'tfjs-external-but-gradients',
      setup(b) {
        b.onResolve({ filter: /^@tensorflow\// }, (args) => (args.path.includes('register_all_gradients') ? undefined : { path: args.path, external: true }));
      },
    };
    const outfile = join(dir, 'cli.mjs');
    await build({ bundle: true, platform: 'node', format: 'esm', target: 'node20', stdin, outfile, conditions, plugins: [externalButGradients], logLevel: 'error' });
    // The gradient module brings its own copy of the tfjs-core internals it uses; it shares the global
    // engine and registries with the external tfjs-core.
    expect(copiesOfEngine(readFileSync(outfile, 'utf8'))).toBe(1);
    expectGradient(await runBundle(outfile));
  });

  it('a browser bundle of @lipschitz/backends builds without node:* modules and registers the gradients', async () => {
    const result = await build({
      stdin: { contents: "export { prepareBackend } from '@lipschitz/backends';", resolveDir: repoRoot, loader: 'ts', sourcefile: 'page.ts' },
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      conditions,
      logLevel: 'silent',
      outdir: join(tmpdir(), 'unused'),
      splitting: true,
    });
    expect(result.errors).toEqual([]);
    const code = result.outputFiles.map((f) => f.text).join('\n');
    expect(code).not.toMatch(/from\s*["']node:|require\(["']node:/);
    expect(copiesOfEngine(code)).toBe(1);
    // The gradient registrations survive tree shaking (package.json "sideEffects").
    expect(code).toContain('Error in gradient of conv2D: dilation rates greater than 1');
  });

  it('wasmBinaryDirectory() finds the three .wasm files', () => {
    for (const file of WASM_BINARY_FILES) expect(existsSync(join(wasmBinaryDirectory(), file))).toBe(true);
  });
});
