import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeBundleOptions } from './bundling';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = join(packageDir, '..', '..');
// Debian chromium's SwiftShader Vulkan driver and the Vulkan loader beside it (runtime.md).
const CHROMIUM_DIR = '/usr/lib/chromium';
const SWIFTSHADER_ICD = join(CHROMIUM_DIR, 'vk_swiftshader_icd.json');

// Runs in a child process: the Vulkan loader is found through LD_LIBRARY_PATH, which only takes effect
// at process start. Computes conv2d (strides 1 and 2) and flagged matMul gradients on cpu, then on
// webgpu, and prints the largest difference.
const SCRIPT = `
import * as tf from '@tensorflow/tfjs-core';
import { prepareBackend } from '@lipschitz/backends';
const values = (n, k) => Array.from({ length: n }, (_, i) => Math.sin(i * k));
function compute() {
  return tf.tidy(() => {
    const x = tf.tensor4d(values(2 * 6 * 7 * 3, 0.7), [2, 6, 7, 3]);
    const w = tf.tensor4d(values(3 * 3 * 3 * 4, 1.3), [3, 3, 3, 4]);
    const a = tf.tensor2d(values(5 * 4, 0.3), [5, 4]);
    const out = [];
    for (const stride of [1, 2]) {
      out.push(...tf.grads((p, q) => tf.sum(tf.square(tf.conv2d(p, q, stride, 'same'))))([x, w]));
    }
    out.push(tf.grad((p) => tf.sum(tf.square(tf.matMul(p, p, true, false))))(a));
    return out;
  });
}
await prepareBackend('cpu');
const expected = await Promise.all(compute().map((t) => t.data()));
try {
  const prepared = await prepareBackend('webgpu', { vulkanIcdFilenames: process.env.LIPSCHITZ_ICD || undefined });
  const actual = await Promise.all(compute().map((t) => t.data()));
  let maxDiff = 0;
  actual.forEach((v, i) => v.forEach((value, j) => { maxDiff = Math.max(maxDiff, Math.abs(value - expected[i][j])); }));
  console.log(JSON.stringify({ backend: prepared.backend, reason: prepared.reason, maxDiff, count: actual.length }));
} catch (error) {
  console.log(JSON.stringify({ code: error.code, message: error.message }));
}
`;

const outDir = join(packageDir, 'node_modules', '.cache', `lipschitz-webgpu-${process.pid}`);
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describe('webgpu in Node through Dawn (the optional `webgpu` package)', () => {
  it('trains a conv and a flagged matMul on SwiftShader, matching the cpu backend (or reports the missing driver)', async () => {
    mkdirSync(outDir, { recursive: true });
    const outfile = join(outDir, 'webgpu.mjs');
    await build({
      ...nodeBundleOptions(),
      stdin: { contents: SCRIPT, resolveDir: repoRoot, loader: 'js', sourcefile: 'webgpu.mjs' },
      outfile,
      external: ['webgpu'], // a native addon: resolved from node_modules at run time
      conditions: ['@lipschitz/source'],
      logLevel: 'error',
    });
    const haveSwiftShader = existsSync(SWIFTSHADER_ICD);
    const env: NodeJS.ProcessEnv = { ...process.env, LIPSCHITZ_ICD: haveSwiftShader ? SWIFTSHADER_ICD : '' };
    if (haveSwiftShader) env.LD_LIBRARY_PATH = [CHROMIUM_DIR, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
    const { stdout } = await promisify(execFile)(process.execPath, [outfile], { cwd: outDir, env, timeout: 120_000 });
    const result = JSON.parse(stdout.trim().split('\n').pop() as string);
    if (haveSwiftShader) {
      expect(result).toMatchObject({ backend: 'webgpu', count: 5 });
      expect(result.reason).toBe("'webgpu' was requested: WebGPU through Dawn (the `webgpu` package).");
      expect(result.maxDiff).toBeLessThanOrEqual(1e-4);
    } else {
      // No driver on this machine: the one-line error says what to install.
      expect(result.code).toBe('BACKEND_UNSUPPORTED');
      expect(result.message).toMatch(/^prepareBackend: WebGPU \(Dawn\) found no adapter/);
    }
  });
});
