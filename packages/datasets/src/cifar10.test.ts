import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { LipschitzError } from '@lipschitz/core';
import { afterAll, describe, expect, it } from 'vitest';
import { cifarFile, tempDir } from '../test/fixtures';
import { cifar10, parseCifar10Batch } from './cifar10';

const tmp = tempDir('cifar');
afterAll(() => tmp.cleanup());

const value = (r: number, c: number, y: number, x: number) => (r * 7 + c * 50 + y * 3 + x * 5) & 0xff;

async function rejection(promise: Promise<unknown>): Promise<LipschitzError> {
  try {
    await promise;
  } catch (e) {
    if (LipschitzError.isInstance(e)) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

/** Writes a CIFAR directory (relative to tmp) whose batch b (1..5) holds 2 records and the test batch 3. */
function writeCifarDir(sub: string, test = cifarFile([3, 8, 1], (r, c, y, x) => value(r + 100, c, y, x))): string {
  for (let b = 1; b <= 5; b++) tmp.write(join(sub, `data_batch_${b}.bin`), cifarFile([b, 9 - b], (r, c, y, x) => value(r + 2 * b, c, y, x)));
  tmp.write(join(sub, 'test_batch.bin'), test);
  return join(tmp.dir, sub);
}

describe('CIFAR-10 binary reader', () => {
  it('turns CHW records into NHWC float32 v/255 with their labels', () => {
    const bytes = cifarFile([6, 2], value);
    const { images, labels, count } = parseCifar10Batch(bytes, 'b.bin');
    expect(count).toBe(2);
    expect(Array.from(labels)).toEqual([6, 2]);
    for (const [r, y, x, c] of [[0, 0, 0, 0], [1, 31, 0, 2], [1, 5, 17, 1], [0, 31, 31, 2]]) {
      expect(images[((r * 32 + y) * 32 + x) * 3 + c]).toBe(Math.fround(value(r, c, y, x) / 255));
    }
    for (let i = 0; i < images.length; i++) expect(images[i] >= 0 && images[i] <= 1).toBe(true);
  });

  it('rejects a truncated file and a bad label, naming the file', () => {
    const bytes = cifarFile([1, 2], value);
    expect(() => parseCifar10Batch(bytes.subarray(0, 6145), 'cut.bin')).toThrow(
      /^parseCifar10Batch: cut\.bin has 6145 bytes, not a positive multiple of the 3073-byte CIFAR-10 record/,
    );
    expect(() => parseCifar10Batch(new Uint8Array(0), 'empty.bin')).toThrow(/empty\.bin has 0 bytes/);
    bytes[3073] = 10;
    let error: unknown;
    try {
      parseCifar10Batch(bytes, 'lab.bin');
    } catch (e) {
      error = e;
    }
    expect((error as LipschitzError).code).toBe('CORRUPT_DATA');
    expect((error as Error).message).toMatch(/^parseCifar10Batch: lab\.bin has label 10 in record 1, outside \[0, 10\)/);
  });

  it('loads a directory (or its parent) in batch order, with limits', async () => {
    const dir = writeCifarDir('top/cifar-10-batches-bin');
    for (const where of [dir, join(tmp.dir, 'top')]) {
      const { train, test } = await cifar10({ dir: where });
      expect([train.count, train.height, train.width, train.channels, train.numClasses]).toEqual([10, 32, 32, 3, 10]);
      expect(Array.from(train.labels)).toEqual([1, 8, 2, 7, 3, 6, 4, 5, 5, 4]);
      expect(Array.from(test.labels)).toEqual([3, 8, 1]);
      // train example 5 is record 1 of data_batch_3, whose pixels are value(r + 6, ...).
      expect(train.images[((5 * 32 + 9) * 32 + 4) * 3 + 1]).toBe(Math.fround(value(1 + 6, 1, 9, 4) / 255));
      expect(train.name).toBe('cifar10/train');
    }
    const limited = await cifar10({ dir, trainLimit: 3, testLimit: 1 });
    expect([limited.train.count, limited.test.count]).toEqual([3, 1]);
    expect(limited.train.images.length).toBe(3 * 3072);
  });

  it('names a missing file and says how to get the data', async () => {
    const dir = writeCifarDir('missing');
    rmSync(join(dir, 'data_batch_4.bin'));
    const e = await rejection(cifar10({ dir }));
    expect(e.code).toBe('NOT_FOUND');
    expect(e.message).toMatch(/^cifar10: file .*missing\/data_batch_4\.bin does not exist\. Download the binary version, https:\/\/www\.cs\.toronto\.edu\/~kriz\/cifar-10-binary\.tar\.gz/);
  });

  it('reports a corrupt test batch as CORRUPT_DATA from cifar10', async () => {
    const dir = writeCifarDir('corrupt', cifarFile([1], value).subarray(0, 3000));
    const e = await rejection(cifar10({ dir }));
    expect(e.code).toBe('CORRUPT_DATA');
    expect(e.message).toMatch(/^cifar10: .*corrupt\/test_batch\.bin has 3000 bytes/);
  });

  it('does not read a split whose limit is 0', async () => {
    tmp.write('test-only/test_batch.bin', cifarFile([4], value));
    const { train, test } = await cifar10({ dir: join(tmp.dir, 'test-only'), trainLimit: 0 });
    expect([train.count, train.height, train.width, train.channels, train.images.length]).toEqual([0, 32, 32, 3, 0]);
    expect(Array.from(test.labels)).toEqual([4]);
  });

  it('validates its options', async () => {
    expect((await rejection(cifar10({} as { dir: string }))).message).toMatch(/^cifar10: dir must be the directory holding the data files/);
    expect((await rejection(cifar10({ dir: tmp.dir, trainLimit: -1 }))).message).toMatch(/^cifar10: trainLimit must be a non-negative integer, got -1/);
  });
});
