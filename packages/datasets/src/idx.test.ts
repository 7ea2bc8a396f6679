import { LipschitzError } from '@lipschitz/core';
import { afterAll, describe, expect, it } from 'vitest';
import { bytePattern, gzip, idxFile, tempDir } from '../test/fixtures';
import { parseIdx, parseIdxImages, parseIdxLabels, readIdx, readIdxImages, readIdxLabels } from './idx';

const tmp = tempDir('idx');
afterAll(() => tmp.cleanup());

const count = 3;
const rows = 4;
const cols = 5;
const pixels = bytePattern(count * rows * cols, 1);
const imageBytes = idxFile(0x00000803, [count, rows, cols], pixels);
const labelBytes = idxFile(0x00000801, [count], [7, 0, 9]);

async function rejection(promise: Promise<unknown>): Promise<LipschitzError> {
  try {
    await promise;
  } catch (e) {
    if (LipschitzError.isInstance(e)) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

describe('IDX readers', () => {
  it('reads plain and gzipped image files into NHWC float32 v/255', async () => {
    const plain = tmp.write('images-idx3-ubyte', imageBytes);
    const gz = tmp.write('images-idx3-ubyte.gz', gzip(imageBytes));
    for (const path of [plain, gz]) {
      const set = await readIdxImages(path);
      expect([set.count, set.height, set.width]).toEqual([count, rows, cols]);
      expect(set.images).toBeInstanceOf(Float32Array);
      expect(set.images.length).toBe(count * rows * cols);
      // image 2, row 3, column 1 is byte 16 + ((2·4 + 3)·5 + 1) of the file.
      expect(set.images[(2 * rows + 3) * cols + 1]).toBe(Math.fround(imageBytes[16 + (2 * rows + 3) * cols + 1] / 255));
      for (let i = 0; i < pixels.length; i++) expect(set.images[i]).toBe(Math.fround(pixels[i] / 255));
    }
    expect((await readIdxImages(gzip(imageBytes))).count).toBe(count);
  });

  it('reads plain and gzipped label files', async () => {
    const gz = tmp.write('labels-idx1-ubyte.gz', gzip(labelBytes));
    expect(Array.from(await readIdxLabels(gz))).toEqual([7, 0, 9]);
    expect(Array.from(await readIdxLabels(labelBytes))).toEqual([7, 0, 9]);
    expect(Array.from(parseIdxLabels(labelBytes))).toEqual([7, 0, 9]);
  });

  it('readIdx returns dims and raw data of any rank', async () => {
    const bytes = idxFile(0x00000802, [2, 3], [1, 2, 3, 4, 5, 6]);
    const { dims, data } = await readIdx(tmp.write('m.gz', gzip(bytes)));
    expect(dims).toEqual([2, 3]);
    expect(Array.from(data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(parseIdx(bytes).dims).toEqual([2, 3]);
  });

  it('rejects a wrong magic number, naming the file and both numbers', async () => {
    const path = tmp.write('swapped', labelBytes);
    const e = await rejection(readIdxImages(path));
    expect(e.code).toBe('CORRUPT_DATA');
    expect(e.message).toMatch(/^readIdxImages: .*swapped has magic number 0x00000801 \(an IDX label file\), expected 0x00000803 \(an IDX image file\)/);
    expect(() => parseIdxLabels(imageBytes, 'img')).toThrow(/^parseIdxLabels: img has magic number 0x00000803 .*expected 0x00000801/);
    const garbage = Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0]);
    expect(() => parseIdx(garbage, 'zip')).toThrow(/^parseIdx: zip has magic number 0x504b0304: not an IDX file/);
    expect(() => parseIdx(idxFile(0x00000d01, [1], [0, 0, 0, 0]), 'floats')).toThrow(/element type 0x0d; only unsigned bytes/);
  });

  it('rejects truncated files and files with trailing bytes', async () => {
    const truncated = tmp.write('truncated', imageBytes.subarray(0, imageBytes.length - 1));
    const e = await rejection(readIdxImages(truncated));
    expect(e.code).toBe('CORRUPT_DATA');
    expect(e.message).toMatch(/truncated has 75 bytes but its header \[3, 4, 5\] needs exactly 76 \(truncated\)/);
    const long = new Uint8Array(imageBytes.length + 2);
    long.set(imageBytes);
    expect(() => parseIdxImages(long, 'long')).toThrow(/long has 78 bytes but its header \[3, 4, 5\] needs exactly 76 \(with trailing bytes\)/);
    expect(() => parseIdx(imageBytes.subarray(0, 10), 'head')).toThrow(/head has 10 bytes, too few for an IDX header of 3 dimensions/);
    expect(() => parseIdx(imageBytes.subarray(0, 2), 'tiny')).toThrow(/tiny has 2 bytes, too few for an IDX header/);
  });

  it('rejects a damaged gzip stream and gzip bytes given to a parser', async () => {
    const gz = gzip(imageBytes);
    const damaged = tmp.write('damaged.gz', gz.subarray(0, gz.length - 12));
    const e = await rejection(readIdxImages(damaged));
    expect(e.code).toBe('CORRUPT_DATA');
    expect(e.message).toMatch(/^readIdxImages: .*damaged\.gz starts like a gzip file but does not decompress/);
    expect(() => parseIdxImages(gz, 'x.gz')).toThrow(/^parseIdxImages: x\.gz is gzip-compressed\. Decompress it first/);
  });

  it('rejects labels outside [0, numClasses)', async () => {
    const bad = idxFile(0x00000801, [4], [1, 2, 10, 3]);
    const e = await rejection(readIdxLabels(tmp.write('bad-labels', bad)));
    expect(e.code).toBe('CORRUPT_DATA');
    expect(e.message).toMatch(/bad-labels has label 10 at index 2, outside \[0, 10\)/);
    expect(Array.from(await readIdxLabels(bad, { numClasses: 11 }))).toEqual([1, 2, 10, 3]);
    expect(() => parseIdxLabels(bad, 'l', 3)).toThrow(/l has label 10 at index 2, outside \[0, 3\)/);
    expect(() => parseIdxLabels(bad, 'l', 0)).toThrow(/^parseIdxLabels: numClasses must be a positive integer, got 0/);
  });

  it('gives NOT_FOUND with the path and the hint for a missing file', async () => {
    const e = await rejection(readIdx(`${tmp.dir}/nope-idx1-ubyte`, { howToGet: 'Get it from X.' }));
    expect(e.code).toBe('NOT_FOUND');
    expect(e.message).toMatch(/^readIdx: file .*nope-idx1-ubyte does not exist\. Get it from X\.$/);
  });

  it('rejects inputs that are neither a path nor bytes', async () => {
    const e = await rejection(readIdx(42 as unknown as string));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toMatch(/^readIdx: input must be a file path or a Uint8Array/);
    expect(() => parseIdx([1, 2] as unknown as Uint8Array)).toThrow(/^parseIdx: bytes must be a Uint8Array/);
  });
});
