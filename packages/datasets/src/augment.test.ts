import * as tf from '@tensorflow/tfjs-core';
import { SeededRandom } from '@lipschitz/core';
import { describeBackends } from '@lipschitz/test-utils';
import { describe, expect, it } from 'vitest';
import { cifarAugment, randomCropFlip } from './augment';
import { batches } from './batches';
import { syntheticImages } from './synthetic';

/**
 * Oracle, written the way torchvision does it: build the zero-padded image explicitly, cut the crop at
 * (top, left), then reverse each row when flipped.
 */
function padCropFlip(image: Float32Array, h: number, w: number, c: number, p: number, top: number, left: number, flip: boolean): Float32Array {
  const ph = h + 2 * p;
  const pw = w + 2 * p;
  const padded: number[][][] = Array.from({ length: ph }, () => Array.from({ length: pw }, () => new Array(c).fill(0)));
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) padded[y + p][x + p][k] = image[(y * w + x) * c + k];
  const crop = padded.slice(top, top + h).map((row) => row.slice(left, left + w));
  const flipped = flip ? crop.map((row) => [...row].reverse()) : crop;
  return Float32Array.from(flipped.flat(2));
}

describe('randomCropFlip', () => {
  it("matches explicit pad → crop → flip with the documented draws (the reference's CIFAR augmentation)", () => {
    const set = syntheticImages({ count: 40, height: 6, width: 7, channels: 3, numClasses: 2, seed: 4 });
    const batch = set.images.slice();
    cifarAugment(batch, [40, 6, 7, 3], new SeededRandom(11));
    const draws = new SeededRandom(11);
    const pixels = 6 * 7 * 3;
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const top = draws.int(9);
      const left = draws.int(9);
      const flip = draws.uniform() < 0.5;
      seen.add(`${flip}`);
      seen.add(`top${top}`);
      const expected = padCropFlip(set.images.subarray(i * pixels, (i + 1) * pixels), 6, 7, 3, 4, top, left, flip);
      expect(batch.subarray(i * pixels, (i + 1) * pixels)).toEqual(expected);
    }
    expect(seen.has('true') && seen.has('false')).toBe(true);
    expect([...seen].filter((s) => s.startsWith('top')).length).toBeGreaterThan(4);
  });

  it('matches the oracle when the padding exceeds the image (crops may be all zero)', () => {
    for (const flip of [true, false]) {
      const set = syntheticImages({ count: 30, height: 3, width: 4, channels: 2, numClasses: 2, seed: 6 });
      const batch = set.images.slice();
      randomCropFlip({ padding: 5, flip })(batch, [30, 3, 4, 2], new SeededRandom(2));
      const draws = new SeededRandom(2);
      const pixels = 3 * 4 * 2;
      for (let i = 0; i < 30; i++) {
        const top = draws.int(11);
        const left = draws.int(11);
        const mirrored = flip && draws.uniform() < 0.5;
        expect(batch.subarray(i * pixels, (i + 1) * pixels)).toEqual(padCropFlip(set.images.subarray(i * pixels, (i + 1) * pixels), 3, 4, 2, 5, top, left, mirrored));
      }
    }
  });

  it('is the identity with padding 0 and no flip, and deterministic for a seed', () => {
    const set = syntheticImages({ count: 5, height: 4, width: 4, channels: 1, seed: 1 });
    const same = set.images.slice();
    randomCropFlip({ padding: 0, flip: false })(same, [5, 4, 4, 1], new SeededRandom(0));
    expect(same).toEqual(set.images);
    const a = set.images.slice();
    const b = set.images.slice();
    cifarAugment(a, [5, 4, 4, 1], new SeededRandom(9));
    cifarAugment(b, [5, 4, 4, 1], new SeededRandom(9));
    expect(a).toEqual(b);
    expect(a).not.toEqual(set.images);
  });

  it('validates its options', () => {
    expect(() => randomCropFlip({ padding: -1 })).toThrow(/^randomCropFlip: padding must be a non-negative integer, got -1/);
    expect(() => randomCropFlip({ flip: 'yes' as unknown as boolean })).toThrow(/^randomCropFlip: flip must be a boolean, got yes/);
  });
});

describeBackends('batches with augment', () => {
  it("augment: 'cifar' uploads exactly the oracle's images, and the same seed gives the same batches", async () => {
    const set = syntheticImages({ count: 9, height: 8, width: 8, channels: 3, numClasses: 3, seed: 2 });
    const run = async () => {
      const xs: number[] = [];
      for (const { x, y } of batches(set, { batchSize: 4, augment: 'cifar', seed: 5 })) {
        xs.push(...(await x.data()));
        tf.dispose([x, y]);
      }
      return Float32Array.from(xs);
    };
    const got = await run();
    const draws = new SeededRandom(5);
    const pixels = 8 * 8 * 3;
    for (let i = 0; i < 9; i++) {
      const top = draws.int(9);
      const left = draws.int(9);
      const flip = draws.uniform() < 0.5;
      expect(got.subarray(i * pixels, (i + 1) * pixels)).toEqual(padCropFlip(set.images.subarray(i * pixels, (i + 1) * pixels), 8, 8, 3, 4, top, left, flip));
    }
    expect(await run()).toEqual(got);
  });
});
