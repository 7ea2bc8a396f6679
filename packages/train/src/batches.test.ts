import { batches } from '@lipschitz/datasets';
import { describeBackends, expectNoLeaks } from '@lipschitz/test-utils';
import { expect, it } from 'vitest';
import { blobs } from '../test/fixtures';
import { shuffledBatches } from './batches';

describeBackends('shuffledBatches', () => {
  it('keeps the last partial batch and covers every example once', async () => {
    const set = blobs(10);
    const sizes: number[] = [];
    const seen: number[] = [];
    for (const { x, y, size, index } of shuffledBatches(set, { batchSize: 4, shuffle: true, seed: 3 })) {
      expect(index).toBe(sizes.length);
      expect(x.shape).toEqual([size, 1, 2, 1]);
      expect(y.dtype).toBe('int32');
      const xs = await x.data();
      const ys = await y.data();
      for (let i = 0; i < size; i++) {
        // Find the example by its pixels and check its label travelled with it.
        const example = [...Array(set.count).keys()].find((e) => set.images[2 * e] === xs[2 * i] && set.images[2 * e + 1] === xs[2 * i + 1]);
        expect(example).toBeDefined();
        expect(ys[i]).toBe(set.labels[example as number]);
        seen.push(example as number);
      }
      sizes.push(size);
      x.dispose();
      y.dispose();
    }
    expect(sizes).toEqual([4, 4, 2]);
    expect([...seen].sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
    expect(seen).not.toEqual([...Array(10).keys()]);
  });

  it('is deterministic in the seed, ordered without shuffle, and honours limit', async () => {
    const set = blobs(12);
    const labelsOf = async (options: Parameters<typeof shuffledBatches>[1]) => {
      const out: number[] = [];
      for (const { x, y } of shuffledBatches(set, options)) {
        out.push(...(await x.data()));
        x.dispose();
        y.dispose();
      }
      return out;
    };
    expect(await labelsOf({ batchSize: 5, shuffle: true, seed: 7 })).toEqual(await labelsOf({ batchSize: 5, shuffle: true, seed: 7 }));
    expect(await labelsOf({ batchSize: 5, shuffle: true, seed: 7 })).not.toEqual(await labelsOf({ batchSize: 5, shuffle: true, seed: 8 }));
    expect(await labelsOf({ batchSize: 5 })).toEqual(Array.from(set.images));
    expect(await labelsOf({ batchSize: 5, limit: 3 })).toEqual(Array.from(set.images.subarray(0, 6)));
  });

  it('allocates only what the consumer takes', async () => {
    await expectNoLeaks(() => {
      for (const { x, y } of shuffledBatches(blobs(9), { batchSize: 2, shuffle: true, seed: 1 })) {
        x.dispose();
        y.dispose();
        break;
      }
    });
  });

  it("yields exactly the batches of @lipschitz/datasets' batches for the same seed and limit (either can be the batcher)", async () => {
    const set = blobs(23);
    const read = async (source: Iterable<{ x: { data(): Promise<ArrayLike<number>>; dispose(): void }; y: { data(): Promise<ArrayLike<number>>; dispose(): void }; index: number; size: number }>) => {
      const out: unknown[] = [];
      for (const b of source) {
        out.push([b.index, b.size, Array.from(await b.x.data()), Array.from(await b.y.data())]);
        b.x.dispose();
        b.y.dispose();
      }
      return out;
    };
    for (const options of [{ batchSize: 5, shuffle: true, seed: 11 }, { batchSize: 4, shuffle: true, seed: 3, limit: 17 }, { batchSize: 6 }]) {
      expect(await read(shuffledBatches(set, options))).toEqual(await read(batches(set, options)));
    }
  });

  it('rejects bad options', () => {
    expect(() => [...shuffledBatches(blobs(3), { batchSize: 0 })]).toThrow(/^shuffledBatches: batchSize must be a positive integer, got 0/);
    expect(() => [...shuffledBatches(blobs(3), { batchSize: 1, limit: -1 })]).toThrow(/^shuffledBatches: limit must be a non-negative integer/);
  });
});
