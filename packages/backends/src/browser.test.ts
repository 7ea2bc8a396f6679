import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { launchHeadlessChromium } from '@lipschitz/test-utils';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRADIENT_CHECK_SOURCE } from '../test/gradient-check';
import { copyWasmBinaries } from './bundling';


const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

// The page: `window.check(name, options)` compares conv2d and flagged-matMul gradients on `name` with the
// cpu backend (test/gradient-check.ts); `window.failure(name)` returns prepareBackend's error.
const PAGE_SCRIPT = `${GRADIENT_CHECK_SOURCE}
window.check = compareWithCpu;
window.failure = async (name) => {
  try { await prepareBackend(name); return 'no error'; } catch (e) { return e.code + ': ' + e.message; }
};
`;

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };

let dir = '';
let server: Server;
let browser: Browser;
let origin = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lipschitz-browser-'));
  await build({
    stdin: { contents: PAGE_SCRIPT, resolveDir: repoRoot, loader: 'js', sourcefile: 'page.js' },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    outfile: join(dir, 'page.js'),
    conditions: ['@lipschitz/source'],
    logLevel: 'error',
  });
  copyWasmBinaries(dir);
  writeFileSync(join(dir, 'index.html'), '<!doctype html><script type="module" src="/page.js"></script>');
  server = createServer((request, response) => {
    const path = join(dir, (request.url ?? '/').split('?')[0].replace(/^\/$/, '/index.html'));
    if (!path.startsWith(dir) || !existsSync(path)) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, {
      'Content-Type': TYPES[extname(path)] ?? 'application/octet-stream',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
    });
    response.end(readFileSync(path));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // Playwright gives every launch a new, empty profile directory.
  browser = await launchHeadlessChromium('the backends browser test');
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

type CheckResult = { backend: string; reason: string; maxDiff: number; count: number };

async function inFreshPage<T>(fn: (page: import('playwright-core').Page) => Promise<T>): Promise<T> {
  const page = await browser.newPage();
  try {
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => typeof (window as unknown as { check?: unknown }).check === 'function');
    return await fn(page);
  } finally {
    await page.close();
  }
}

function check(name: string, options?: Record<string, unknown>): Promise<CheckResult> {
  return inFreshPage((page) =>
    page.evaluate(
      ([n, o]) => (window as unknown as { check: (n: string, o?: unknown) => Promise<CheckResult> }).check(n as string, o),
      [name, options] as const,
    ),
  );
}

describe('@lipschitz/backends in headless Chromium (browser bundle, no Node modules)', () => {
  it("auto picks webgpu first and its gradients match the cpu backend's", async () => {
    const result = await check('auto');
    expect(result.backend).toBe('webgpu');
    expect(result.reason).toBe("auto in a browser (order webgpu > webgl > wasm): chose webgpu: WebGPU.");
    expect(result.count).toBe(5);
    expect(result.maxDiff).toBeLessThanOrEqual(1e-4);
  });

  it('webgl trains and matches the cpu backend', async () => {
    const result = await check('webgl');
    expect(result.backend).toBe('webgl');
    expect(result.maxDiff).toBeLessThanOrEqual(1e-4);
  });

  it('wasm with wasmPaths (the .wasm files served beside the page) trains with the registered kernels', async () => {
    const result = await check('wasm', { wasmPaths: '/' });
    expect(result.backend).toBe('wasm');
    expect(result.reason).toMatch(/training kernels of @lipschitz\/backends/);
    expect(result.maxDiff).toBeLessThanOrEqual(1e-4);
  });

  it('node backends are refused in the browser with one clear line', async () => {
    const message = await inFreshPage((page) => page.evaluate(() => (window as unknown as { failure: (n: string) => Promise<string> }).failure('node-gpu')));
    expect(message).toBe(
      "BACKEND_UNSUPPORTED: prepareBackend: backend 'node-gpu' (@tensorflow/tfjs-node-gpu) runs only in Node.js; in a browser use 'webgpu', 'webgl' or 'wasm'.",
    );
  });
});
