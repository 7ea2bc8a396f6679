import { join } from 'node:path';
import { LipschitzError } from '@lipschitz/core';
import { afterAll, describe, expect, it } from 'vitest';
import { stlFile, tempDir } from '../test/fixtures';
import { parseStl10Images, parseStl10Labels, stl10 } from './stl10';

const tmp = tempDir('stl');
afterAll(() => tmp.cleanup());

const pixel = (i: number, c: number, y: number, x: number) => (i * 11 + c * 80 + y * 2 + x * 7) & 0xff;

async function rejection(promise: Promise<unknown>): Promise<LipschitzError> {
  try {
    await promise;
  } catch (e) {
    if (LipschitzError.isInstance(e)) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

describe('STL-10 binary reader', () => {
  it('turns column-major CHW images into NHWC float32 v/255', () => {
    const bytes = stlFile(2, pixel);
    // Column-major: the byte after (c, y=0, x=0) is (c, y=1, x=0).
    expect(bytes[1]).toBe(pixel(0, 0, 1, 0));
    const { images, count } = parseStl10Images(bytes, 'train_X.bin');
    expect(count).toBe(2);
    for (const [i, y, x, c] of [[0, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [1, 95, 3, 2], [1, 40, 77, 1]]) {
      expect(images[((i * 96 + y) * 96 + x) * 3 + c]).toBe(Math.fround(pixel(i, c, y, x) / 255));
    }
  });

  it('maps labels 1..10 to 0..9 and rejects 0 and 11', () => {
    expect(Array.from(parseStl10Labels(Uint8Array.from([1, 10, 5])))).toEqual([0, 9, 4]);
    expect(() => parseStl10Labels(Uint8Array.from([3, 0]), 'y.bin')).toThrow(/^parseStl10Labels: y\.bin has label 0 at index 1, outside 1\.\.10/);
    expect(() => parseStl10Labels(Uint8Array.from([11]), 'y.bin')).toThrow(/y\.bin has label 11 at index 0, outside 1\.\.10/);
    expect(() => parseStl10Labels(new Uint8Array(0), 'e.bin')).toThrow(/^parseStl10Labels: e\.bin is empty/);
  });

  it('rejects a truncated image file', () => {
    expect(() => parseStl10Images(stlFile(1, pixel).subarray(0, 27000), 'x.bin')).toThrow(
      /^parseStl10Images: x\.bin has 27000 bytes, not a positive multiple of the 27648-byte STL-10 image/,
    );
  });

  it('loads train and test from a directory or its parent, with limits', async () => {
    const sub = 'top/stl10_binary';
    tmp.write(`${sub}/train_X.bin`, stlFile(2, pixel));
    tmp.write(`${sub}/train_y.bin`, Uint8Array.from([2, 10]));
    tmp.write(`${sub}/test_X.bin`, stlFile(3, (i, c, y, x) => pixel(i + 5, c, y, x)));
    tmp.write(`${sub}/test_y.bin`, Uint8Array.from([1, 1, 7]));
    for (const dir of [join(tmp.dir, sub), join(tmp.dir, 'top')]) {
      const { train, test } = await stl10({ dir });
      expect([train.count, train.height, train.width, train.channels, train.numClasses]).toEqual([2, 96, 96, 3, 10]);
      expect(Array.from(train.labels)).toEqual([1, 9]);
      expect(Array.from(test.labels)).toEqual([0, 0, 6]);
      expect(test.images[((2 * 96 + 10) * 96 + 20) * 3 + 2]).toBe(Math.fround(pixel(7, 2, 10, 20) / 255));
    }
    const limited = await stl10({ dir: join(tmp.dir, sub), trainLimit: 1, testLimit: 0 });
    expect([limited.train.count, limited.test.count]).toEqual([1, 0]);
  });

  it('does not read a split whose limit is 0', async () => {
    tmp.write('train-only/train_X.bin', stlFile(1, pixel));
    tmp.write('train-only/train_y.bin', Uint8Array.from([4]));
    const { train, test } = await stl10({ dir: join(tmp.dir, 'train-only'), testLimit: 0 });
    expect([train.count, train.labels[0]]).toEqual([1, 3]);
    expect([test.count, test.height, test.width, test.channels, test.numClasses, test.images.length]).toEqual([0, 96, 96, 3, 10, 0]);
    expect((await rejection(stl10({ dir: join(tmp.dir, 'train-only') }))).message).toMatch(/^stl10: file .*train-only\/test_X\.bin does not exist/);
  });

  it('rejects image and label counts that differ, and names missing files', async () => {
    tmp.write('bad/train_X.bin', stlFile(2, pixel));
    tmp.write('bad/train_y.bin', Uint8Array.from([2]));
    tmp.write('bad/test_X.bin', stlFile(1, pixel));
    tmp.write('bad/test_y.bin', Uint8Array.from([2]));
    const mismatch = await rejection(stl10({ dir: join(tmp.dir, 'bad') }));
    expect(mismatch.code).toBe('CORRUPT_DATA');
    expect(mismatch.message).toMatch(/^stl10: .*bad\/train_X\.bin holds 2 images but .*bad\/train_y\.bin holds 1 labels/);
    const missing = await rejection(stl10({ dir: join(tmp.dir, 'nowhere') }));
    expect(missing.code).toBe('NOT_FOUND');
    expect(missing.message).toMatch(/^stl10: file .*nowhere\/train_X\.bin does not exist\. Download https:\/\/ai\.stanford\.edu\/~acoates\/stl10\/stl10_binary\.tar\.gz/);
  });
});
