import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { GRADIENT_CHECK_SOURCE } from '../test/gradient-check';
import { nodeBundleOptions } from './bundling';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = join(packageDir, '..', '..');
// Debian chromium's SwiftShader Vulkan driver and the Vulkan loader beside it (runtime.md).
const CHROMIUM_DIR = '/usr/lib/chromium';
const SWIFTSHADER_ICD = join(CHROMIUM_DIR, 'vk_swiftshader_icd.json');

// Runs in a child process: the Vulkan loader is found through LD_LIBRARY_PATH, which only takes effect
// at process start. Compares conv2d and flagged-matMul gradients on webgpu with the cpu backend
// (test/gradient-check.ts) and prints the result, or the error.
const SCRIPT = `${GRADIENT_CHECK_SOURCE}
try {
  console.log(JSON.stringify(await compareWithCpu('webgpu', { vulkanIcdFilenames: process.env.LIPSCHITZ_ICD || undefined })));
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
