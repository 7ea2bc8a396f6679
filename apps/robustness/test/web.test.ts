/**
 * What is tested: the robustness web page end to end (issue 8). The Node CLI (built from sources) trains,
 * certifies and exports a tiny BCOP model; the page (bundled with esbuild) loads the exported file in
 * Debian's headless Chromium and must reproduce the CLI's numbers on WebGPU (SwiftShader), and on the
 * WebGL fallback: accuracy counts exactly, L and per-image margins within 1e-4. Then the page trains in the
 * browser and certifies the result: BCOP Small for 8 steps on the wasm fallback, and the tiny BCOP network
 * for 2 steps on WebGPU (issue 17: training on WebGPU failed with "mapAsync … A valid external Instance
 * reference no longer exists", a synchronous GPU read while the network was built). The results of a
 * training run appear in the training section, not under "Certify a model".
 * The page opens with the zoo's `mnist-small-bcop` loaded and certifies it as Node does (issue 18).
 * What is not tested here: BCOP Small training on WebGPU (one step takes minutes on SwiftShader, measured
 * in the README), the file-input path (the same code as `?model=`, after reading the file).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareBackend } from '@lipschitz/backends';
import { certifyExportedModel } from '@lipschitz/certify';
import type { ExportedModel } from '@lipschitz/core';
import { mnist } from '@lipschitz/datasets';
import * as tf from '@tensorflow/tfjs-core';
import { launchHeadlessChromium } from '@lipschitz/test-utils';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWeb } from '../scripts/build-web.mjs';
import { serveDirectory } from '../scripts/serve-web.mjs';
import type { PageCertification } from '../web/app';
import type { PageResults } from '../web/main';
import { buildCli, runCli } from './cli-bundle';


/** Test images certified by both the CLI and the page (SwiftShader WebGPU is slow: keep it small). */
const COUNT = 100;
const EPSILONS = ['1.58', '0.3'];
/** Margins within this of a certification threshold may legitimately flip between backends (float32). */
const FLOAT_TOLERANCE = 1e-4;

interface CliCertify {
  clean: number;
  certified: Record<string, number>;
  lipschitzUpperBound: number;
  count: number;
  curve: { epsilon: number; certified: number }[];
}

let dir = '';
let cliPath = '';
let cli: CliCertify;
let exported: ExportedModel;
let server: { origin: string; close: () => Promise<void> } | undefined;
let browser: Browser | undefined;
let page: Page;

function robustness(...args: string[]): void {
  const result = runCli(cliPath, args);
  if (result.code !== 0) throw new Error(`robustness ${args[0]} failed (exit ${result.code}): ${result.stderr}`);
}

async function pageResults(): Promise<PageResults> {
  return page.evaluate(() => (window as unknown as { __results: PageResults }).__results);
}

/** The page's certification must be the CLI's: same counts (up to float32 ties at a threshold), same L. */
function expectSameAsCli(certify: NonNullable<PageResults['certify']>): void {
  // Same model, same images: the clean accuracy is exactly the CLI's.
  expect(certify.clean).toBe(cli.clean);
  expect(Math.abs(certify.lipschitzUpperBound - cli.lipschitzUpperBound)).toBeLessThanOrEqual(1e-4 * cli.lipschitzUpperBound);
  for (const eps of EPSILONS) {
    // Exact, unless a margin sits within float32 error of the threshold √2·ε·L.
    const threshold = Math.SQRT2 * Number(eps) * certify.lipschitzUpperBound;
    const borderline = certify.margins.filter((m) => Math.abs(m - threshold) < FLOAT_TOLERANCE).length;
    expect(Math.abs(certify.certified[eps] * COUNT - cli.certified[eps] * COUNT)).toBeLessThanOrEqual(borderline);
    if (borderline === 0) expect(certify.certified[eps]).toBe(cli.certified[eps]);
  }
  // The CLI's certified-accuracy curve (61 radii) from the page's per-image radii.
  for (const { epsilon, certified } of cli.curve) {
    const mine = certify.radii.filter((r, i) => certify.predictions[i] === certify.labels[i] && r > epsilon).length;
    const borderline = certify.radii.filter((r) => Math.abs(r - epsilon) < FLOAT_TOLERANCE).length;
    expect(Math.abs(mine - Math.round(certified * COUNT)), `certified at ε = ${epsilon}`).toBeLessThanOrEqual(borderline);
  }
}

/** Node's certification (`certifyExportedModel` on wasm) of `file` on the first `n` MNIST test images. */
async function nodeCertification(file: ExportedModel, n: number) {
  await prepareBackend('wasm');
  const { test } = await mnist({ trainLimit: 1, testLimit: n });
  const images = tf.tensor4d(test.images.subarray(0, n * 784), [n, 28, 28, 1]);
  const labelTensor = tf.tensor1d(test.labels.subarray(0, n), 'int32');
  try {
    return { node: await certifyExportedModel(file, images, labelTensor, { epsilons: [1.58, 0.3] }), labels: Array.from(test.labels.subarray(0, n)) };
  } finally {
    tf.dispose([images, labelTensor]);
  }
}

/** The page's certification of the same file on the same images is Node's: same L and predictions, margins within 1e-4. */
function expectSameAsNode(page: PageCertification, node: Awaited<ReturnType<typeof certifyExportedModel>>, n: number): void {
  expect(page.lipschitzUpperBound).toBe(node.lipschitzUpperBound);
  expect(page.predictions).toEqual(Array.from(node.examples.predictions));
  let worst = 0;
  for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(page.margins[i] - node.examples.margins[i]));
  expect(worst).toBeLessThanOrEqual(1e-4);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'robustness-web-'));
  const webDir = join(dir, 'web');
  // The CLI as shipped (one bundle, wasm binaries beside it) and the page, both built from sources so a
  // fresh clone needs no prior build.
  [cliPath] = await Promise.all([buildCli(), buildWeb({ outDir: webDir, testCount: COUNT, trainCount: 256, minify: false })]);
  const runDir = join(dir, 'run');
  robustness('train', '--out', runDir, '--train-limit', '256', '--test-limit', String(COUNT), '--epochs', '1', '--seed', '0');
  robustness('certify', '--run', runDir, '--eps', EPSILONS.join(','), '--test-limit', String(COUNT));
  robustness('export', '--run', runDir, '--out', join(webDir, 'model.json'));
  cli = JSON.parse(readFileSync(join(runDir, 'certify.json'), 'utf8'));
  exported = JSON.parse(readFileSync(join(webDir, 'model.json'), 'utf8'));
  server = await serveDirectory(webDir);
  browser = await launchHeadlessChromium('the web page test');
  page = await browser.newPage();
  await page.goto(`${server.origin}/?model=/model.json&n=${COUNT}`);
  await page.waitForFunction(() => {
    const r = (window as unknown as { __results?: PageResults }).__results;
    return r?.certify != null || r?.error != null;
  }, null, { timeout: 240_000, polling: 250 });
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (cliPath) rmSync(dirname(cliPath), { recursive: true, force: true });
});

describe('robustness web page in headless Chromium on WebGPU', () => {
  it('prepares WebGPU (auto: webgpu > webgl > wasm) and says why', async () => {
    const results = await pageResults();
    expect(results.error).toBeNull();
    expect(results.backend?.backend).toBe('webgpu');
    expect(results.backend?.reason).toMatch(/chose webgpu/);
    expect(await page.textContent('#backend')).toMatch(/^Backend: webgpu — /);
  });

  it("certifies the exported model with exactly the CLI's accuracies and bound", async () => {
    const { certify } = await pageResults();
    expect(certify).not.toBeNull();
    if (!certify) return;
    expect(certify.source).toBe('/model.json');
    expect(certify.count).toBe(COUNT);
    expect(cli.count).toBe(COUNT);
    expectSameAsCli(certify);
    // The grid shows every image with its prediction and certified radius.
    expect(await page.locator('#grid figure').count()).toBe(COUNT);
    expect(await page.textContent('#summary-clean')).toBe(`${(100 * cli.clean).toFixed(2)}%`);
    // The grid's legend explains the frames and the radius.
    expect(await page.textContent('#certify-results .legend')).toMatch(/green frame: correct and certified at ε = 1\.58.*red frame: misclassified/);
  });

  it('gives per-image margins equal (1e-4) to the Node certification of the same file on the same images', async () => {
    const { certify } = await pageResults();
    if (!certify) throw new Error('the page did not certify');
    const { node, labels } = await nodeCertification(exported, COUNT);
    expect(certify.labels).toEqual(labels);
    expect(node.clean).toBe(cli.clean);
    expectSameAsNode(certify, node, COUNT);
  });

  // SwiftShader WebGPU takes about 2 minutes per BCOP training step on this 2-core machine (measured:
  // step 1 after ~135 s, step 2 ~95 s later, with the same losses as wasm to 4 decimals), too slow for a
  // test; the page's training is therefore driven here on its wasm fallback, which also checks that the
  // .wasm files served beside the page load (wasmPaths).
  it('trains BCOP Small in the browser (wasm fallback) with a finite, decreasing loss, then certifies it', async () => {
    if (!browser || !server) throw new Error('the browser did not start');
    const trainPage = await browser.newPage();
    try {
      await trainPage.goto(`${server.origin}/?backend=wasm&n=50`);
      await trainPage.waitForFunction(() => {
        const r = (window as unknown as { __results?: PageResults }).__results;
        return r?.status === 'ready' || r?.status === 'error';
      });
      await trainPage.fill('#train-images', '256');
      await trainPage.fill('#train-batch', '32');
      await trainPage.fill('#train-epochs', '1');
      await trainPage.click('#train');
      await trainPage.waitForFunction(() => {
        const r = (window as unknown as { __results?: PageResults }).__results;
        return r?.train?.done === true || r?.error != null;
      }, null, { timeout: 180_000, polling: 500 });
      const results = await trainPage.evaluate(() => (window as unknown as { __results: PageResults }).__results);
      expect(results.error).toBeNull();
      expect(results.backend?.backend).toBe('wasm');
      expect(results.backend?.reason).toMatch(/training kernels of @lipschitz\/backends/);
      const train = results.train;
      if (!train) throw new Error('no training results');
      expect(train.steps).toBe(8);
      expect(train.losses).toHaveLength(8);
      for (const loss of train.losses) expect(Number.isFinite(loss) && loss > 0).toBe(true);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      expect(mean(train.losses.slice(-3))).toBeLessThan(mean(train.losses.slice(0, 3)));
      const certified = train.certify;
      if (!certified) throw new Error('the trained model was not certified');
      expect(certified.count).toBe(50);
      // A BCOP network with Björck dense layers is orthogonal: its sound bound is 1 up to the float32 slack.
      expect(certified.lipschitzUpperBound).toBeGreaterThan(0.99);
      expect(certified.lipschitzUpperBound).toBeLessThan(1.001);
      expect(certified.certified['0.3']).toBeLessThanOrEqual(certified.clean);
      expect(await trainPage.getAttribute('#train-download', 'href')).toMatch(/^blob:/);
      // The results have their own place in the training section, with the legend of the grid.
      expect(await trainPage.locator('#train-grid figure').count()).toBe(50);
      expect(await trainPage.textContent('#train-summary-clean')).toBe(`${(100 * certified.clean).toFixed(2)}%`);
      expect(await trainPage.isVisible('#train-results .legend')).toBe(true);
      expect(await trainPage.isHidden('#certify-results')).toBe(true);
    } finally {
      await trainPage.close();
    }
  });

  it('trains the tiny BCOP network on WebGPU (2 steps), then certifies it beside the training controls', async () => {
    if (!browser || !server) throw new Error('the browser did not start');
    const gpuPage = await browser.newPage();
    try {
      await gpuPage.goto(`${server.origin}/?n=20`);
      await gpuPage.waitForFunction(() => {
        const r = (window as unknown as { __results?: PageResults }).__results;
        return r?.status === 'ready' || r?.status === 'error';
      });
      await gpuPage.selectOption('#train-network', 'tiny');
      await gpuPage.fill('#train-images', '4');
      await gpuPage.fill('#train-batch', '2');
      await gpuPage.fill('#train-epochs', '1');
      await gpuPage.click('#train');
      await gpuPage.waitForFunction(() => {
        const r = (window as unknown as { __results?: PageResults }).__results;
        return r?.train?.done === true || r?.error != null;
      }, null, { timeout: 540_000, polling: 1000 });
      const results = await gpuPage.evaluate(() => (window as unknown as { __results: PageResults }).__results);
      expect(results.error).toBeNull();
      expect(results.backend?.backend).toBe('webgpu');
      const train = results.train;
      if (!train) throw new Error('no training results');
      expect(train.network).toBe('tiny');
      expect(train.steps).toBe(2);
      expect(train.losses).toHaveLength(2);
      for (const loss of train.losses) expect(Number.isFinite(loss) && loss > 0).toBe(true);
      const certified = train.certify;
      if (!certified) throw new Error('the trained model was not certified');
      expect(certified.count).toBe(20);
      expect(certified.lipschitzUpperBound).toBeGreaterThan(0.99);
      expect(certified.lipschitzUpperBound).toBeLessThan(1.001);
      expect(await gpuPage.locator('#train-grid figure').count()).toBe(20);
      expect(await gpuPage.isHidden('#certify-results')).toBe(true);
      // The page opened with the zoo model loaded (not certified); training leaves that section alone.
      expect(await gpuPage.textContent('#model-status')).toMatch(/^Loaded zoo:mnist-small-bcop — /);
    } finally {
      await gpuPage.close();
    }
  }, 600_000);

  it('opens with the zoo model mnist-small-bcop loaded, and certifies it as Node does the same file', async () => {
    if (!browser || !server) throw new Error('the browser did not start');
    const zooPage = await browser.newPage();
    const n = 50;
    try {
      await zooPage.goto(`${server.origin}/?backend=wasm&n=${n}`);
      await zooPage.waitForFunction(() => {
        const r = (window as unknown as { __results?: PageResults }).__results;
        return (r?.status === 'ready' && r.loaded != null) || r?.status === 'error';
      }, null, { timeout: 60_000, polling: 250 });
      const opened = await zooPage.evaluate(() => (window as unknown as { __results: PageResults }).__results);
      expect(opened.error).toBeNull();
      expect(opened.loaded).toBe('zoo:mnist-small-bcop');
      expect(opened.certify).toBeNull(); // loaded, not certified until asked
      const zoo = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'models', 'zoo.json'), 'utf8')) as { models: Record<string, { file: string; dataset: string }> };
      expect(opened.zoo).toEqual(Object.keys(zoo.models).filter((name) => zoo.models[name].dataset === 'mnist'));
      expect(await zooPage.inputValue('#zoo-model')).toBe('mnist-small-bcop');
      expect(await zooPage.textContent('#model-status')).toMatch(/^Loaded zoo:mnist-small-bcop — BCOP Small on MNIST.* Press Certify\.$/);
      await zooPage.click('#certify');
      await zooPage.waitForFunction(() => {
        const r = (window as unknown as { __results?: PageResults }).__results;
        return r?.certify != null || r?.error != null;
      }, null, { timeout: 120_000, polling: 250 });
      const { certify, error } = await zooPage.evaluate(() => (window as unknown as { __results: PageResults }).__results);
      expect(error).toBeNull();
      if (!certify) throw new Error('the page did not certify the zoo model');
      expect(certify.source).toBe('zoo:mnist-small-bcop');
      expect(certify.count).toBe(n);
      const file = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'models', zoo.models['mnist-small-bcop'].file), 'utf8')) as ExportedModel;
      const { node } = await nodeCertification(file, n);
      expect(certify.clean).toBe(node.clean);
      expectSameAsNode(certify, node, n);
    } finally {
      await zooPage.close();
    }
  }, 300_000);

  it('gives the same numbers on the WebGL fallback', async () => {
    if (!browser || !server) throw new Error('the browser did not start');
    const webglPage = await browser.newPage();
    try {
      await webglPage.goto(`${server.origin}/?backend=webgl&model=/model.json&n=${COUNT}`);
      await webglPage.waitForFunction(() => {
        const r = (window as unknown as { __results?: PageResults }).__results;
        return r?.certify != null || r?.error != null;
      }, null, { timeout: 120_000, polling: 250 });
      const results = await webglPage.evaluate(() => (window as unknown as { __results: PageResults }).__results);
      expect(results.error).toBeNull();
      expect(results.backend?.backend).toBe('webgl');
      if (!results.certify) throw new Error('the page did not certify on WebGL');
      expect(results.certify.count).toBe(COUNT);
      expectSameAsCli(results.certify);
    } finally {
      await webglPage.close();
    }
  });
});
