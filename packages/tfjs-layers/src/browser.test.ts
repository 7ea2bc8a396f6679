import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchHeadlessChromium } from '@lipschitz/test-utils';
import { build } from 'esbuild';
import { afterAll, beforeAll, expect, it } from 'vitest';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');

// The page: a tiny BCOP model, one fit step, then save with tfjs's own browser handlers.
const PAGE_SCRIPT = `
import { prepareBackend } from '@lipschitz/backends';
import { bcopConv2d, bjorckDense, lipschitzCallback, lipschitzUpperBound, maxMin, multiClassHinge } from './src/index';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

window.run = async (url) => {
  await prepareBackend('cpu');
  const model = tfl.sequential({ layers: [
    bcopConv2d({ inputShape: [4, 4, 1], filters: 4, kernelSize: 2, strides: 2 }), maxMin(), tfl.layers.flatten(), bjorckDense({ units: 3 }),
  ] });
  model.compile({ optimizer: tf.train.adam(1e-2), loss: multiClassHinge({ epsilon: 0.1 }) });
  const x = tf.randomUniform([8, 4, 4, 1], 0, 1, 'float32', 1);
  const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32'), 3);
  await model.fit(x, y, { epochs: 1, batchSize: 4, callbacks: [lipschitzCallback()], verbose: 0 });
  const result = await model.save(url);
  const out = { classes: model.layers.map((l) => l.getClassName()), bytes: result.modelArtifactsInfo.weightDataBytes };
  if (url.startsWith('indexeddb://')) {
    const loaded = await tfl.loadLayersModel(url);
    out.maxDiff = (await tf.max(tf.abs(tf.sub(loaded.predict(x), model.predict(x)))).data())[0];
    out.boundSaved = (await lipschitzUpperBound(model)).lipschitzUpperBound;
    out.boundLoaded = (await lipschitzUpperBound(loaded)).lipschitzUpperBound;
  }
  return out;
};
`;

let dir = '';
let server: Server;
let browser: Awaited<ReturnType<typeof launchHeadlessChromium>>;
let origin = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tfjs-layers-browser-'));
  await build({
    stdin: { contents: PAGE_SCRIPT, resolveDir: packageDir, loader: 'js', sourcefile: 'page.js' },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    outfile: join(dir, 'page.js'),
    conditions: ['@lipschitz/source'],
    logLevel: 'error',
  });
  writeFileSync(join(dir, 'index.html'), '<!doctype html><script type="module" src="/page.js"></script>');
  server = createServer((request, response) => {
    const file = request.url === '/page.js' ? 'page.js' : 'index.html';
    response.writeHead(200, { 'Content-Type': file.endsWith('.js') ? 'text/javascript' : 'text/html' });
    response.end(readFileSync(join(dir, file)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchHeadlessChromium('the tfjs-layers browser save/load test');
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('in Chromium: fit, save to indexeddb:// and load back (same predictions, same bound); downloads:// writes model.json + weights', async () => {
  const page = await browser.newPage({ acceptDownloads: true });
  try {
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => typeof (window as unknown as { run?: unknown }).run === 'function');
    const saved = (await page.evaluate((url) => (window as unknown as { run(u: string): Promise<unknown> }).run(url), 'indexeddb://small')) as {
      classes: string[];
      maxDiff: number;
      boundSaved: number;
      boundLoaded: number;
    };
    expect(saved.classes).toEqual(['BcopConv2d', 'MaxMin', 'Flatten', 'BjorckDense']);
    expect(saved.maxDiff).toBe(0);
    expect(saved.boundLoaded).toBe(saved.boundSaved);
    expect(saved.boundSaved).toBeGreaterThan(0.99);
    const downloads: string[] = [];
    page.on('download', (d) => downloads.push(d.suggestedFilename()));
    await page.evaluate((url) => (window as unknown as { run(u: string): Promise<unknown> }).run(url), 'downloads://small');
    await expect.poll(() => downloads.sort(), { timeout: 30_000 }).toEqual(['small.json', 'small.weights.bin']);
  } finally {
    await page.close();
  }
});
