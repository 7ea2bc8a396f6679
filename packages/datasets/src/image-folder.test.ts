/**
 * What is tested: imageFolder on a generated tree of PNG (lossless: exact pixel values) and JPEG files, read from
 * the directory and from .tar / .tar.gz archives made by the system's GNU tar (an independent writer): labels in
 * class order, class interleaving under limits, luma conversion, every error (missing split, unknown class, mixed
 * sizes, damaged files and archives); parseTar on GNU long names. The check on a real CIFAR-10 copy is
 * bench/cifar10-copy.bench.ts (the copy is not in the repository).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageFolder } from './image-folder';
import { parseTar } from './tar-archive';

const root = mkdtempSync(join(tmpdir(), 'image-folder-'));
const tree = join(root, 'tree');

/** A 3×2 RGB PNG whose pixel (y, x) channel c has the byte value seed + 10·(y·2 + x) + c. */
function png(seed: number, width = 2, height = 3): Uint8Array {
  const data = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) for (let c = 0; c < 3; c++) data[p * 3 + c] = seed + 10 * p + c;
  return encodePng({ width, height, data, channels: 3, depth: 8 });
}

function write(path: string, bytes: Uint8Array) {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, bytes);
}

beforeAll(() => {
  for (const [split, n] of [['train', 3], ['test', 1]] as const) {
    for (const [c, cls] of ['bird', 'ant'].entries()) {
      for (let k = 0; k < n; k++) write(join(tree, split, cls, `${k}.png`), png(100 * c + k));
    }
    write(join(tree, split, 'ant', 'notes.txt'), new TextEncoder().encode('ignored'));
  }
  const tar = (args: string[]) => expect(spawnSync('tar', args, { cwd: tree }).status).toBe(0);
  tar(['-cf', join(root, 'tree.tar'), 'train', 'test']);
  tar(['-czf', join(root, 'tree.tar.gz'), 'train', 'test']);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('imageFolder', () => {
  it('reads a directory: classes sorted, interleaved, exact PNG pixels in [0, 1]', async () => {
    const { train, test } = await imageFolder({ path: tree });
    expect([train.count, train.height, train.width, train.channels, train.numClasses]).toEqual([6, 3, 2, 3, 2]);
    // sorted classes: ant = 0 (seed base 100), bird = 1 (seed base 0); interleaved k-th file of each class
    expect(Array.from(train.labels)).toEqual([0, 1, 0, 1, 0, 1]);
    expect(train.images[0]).toBeCloseTo(100 / 255, 7); // ant/0.png, pixel 0, R
    expect(train.images[18 + 5]).toBeCloseTo((0 + 10 + 2) / 255, 7); // bird/0.png, pixel 1, B
    expect(train.images[2 * 18]).toBeCloseTo(101 / 255, 7); // ant/1.png
    expect(test.count).toBe(2);
  });

  it('reads .tar and .tar.gz archives to the same sets', async () => {
    const direct = await imageFolder({ path: tree, name: 'x' });
    for (const file of ['tree.tar', 'tree.tar.gz']) {
      const archived = await imageFolder({ path: join(root, file), name: 'x' });
      expect(Array.from(archived.train.images)).toEqual(Array.from(direct.train.images));
      expect(Array.from(archived.test.labels)).toEqual(Array.from(direct.test.labels));
    }
  });

  it('honours classes, limits and channels: 1 (BT.601 luma)', async () => {
    const { train, test } = await imageFolder({ path: tree, classes: ['bird', 'ant'], trainLimit: 3, testLimit: 0, channels: 1 });
    expect(Array.from(train.labels)).toEqual([0, 1, 0]);
    expect(train.channels).toBe(1);
    expect(train.images[0]).toBeCloseTo((0.299 * 0 + 0.587 * 1 + 0.114 * 2) / 255, 6);
    expect(test.count).toBe(0);
  });

  it('decodes JPEG (lossy: close to the encoded values)', async () => {
    const dir = join(root, 'jpeg');
    const data = new Uint8Array(8 * 8 * 4).fill(200);
    for (const cls of ['a', 'b']) for (const split of ['train', 'test']) write(join(dir, split, cls, '0.jpg'), jpeg.encode({ data, width: 8, height: 8 }, 95).data);
    const { train } = await imageFolder({ path: dir });
    expect(train.height).toBe(8);
    for (const v of train.images) expect(Math.abs(v - 200 / 255)).toBeLessThan(3 / 255);
  });

  it('refuses a missing split, an unknown class, mixed sizes, damaged files and archives', async () => {
    await expect(imageFolder({ path: tree, splits: { train: 'train', test: 'val' } })).rejects.toThrow(/no "val" folder/);
    await expect(imageFolder({ path: tree, classes: ['ant', 'cat'] })).rejects.toThrow(/class folder "bird"/);
    const mixed = join(root, 'mixed');
    write(join(mixed, 'train', 'a', '0.png'), png(0));
    write(join(mixed, 'train', 'b', '0.png'), png(0, 4, 4));
    write(join(mixed, 'test', 'a', '0.png'), png(0));
    await expect(imageFolder({ path: mixed })).rejects.toThrow(/4×4 but the first image is 2×3/);
    const broken = join(root, 'broken');
    write(join(broken, 'train', 'a', '0.png'), png(0).subarray(0, 30));
    write(join(broken, 'train', 'b', '0.png'), png(0));
    await expect(imageFolder({ path: broken })).rejects.toThrow(/does not decode/);
    const badTar = join(root, 'bad.tar');
    writeFileSync(badTar, new Uint8Array(2048).fill(7));
    await expect(imageFolder({ path: badTar })).rejects.toThrow(/tar header/);
    await expect(imageFolder({ path: join(root, 'nope') })).rejects.toThrow(/does not exist/);
    await expect(imageFolder({ path: tree, channels: 2 as 1 })).rejects.toThrow(/channels must be 1 or 3/);
  });
});

describe('parseTar', () => {
  it('reads GNU long names (> 100 characters) written by GNU tar', () => {
    const dir = join(root, 'long');
    const name = `${'d'.repeat(120)}/file.txt`;
    write(join(dir, name), new TextEncoder().encode('hello'));
    expect(spawnSync('tar', ['--format=gnu', '-cf', join(root, 'long.tar'), '.'], { cwd: dir }).status).toBe(0);
    const bytes = new Uint8Array(readFileSync(join(root, 'long.tar')));
    const files = parseTar(bytes);
    expect(files.map((f) => f.path)).toEqual([name]);
    expect(new TextDecoder().decode(files[0].data)).toBe('hello');
  });
});
