import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describeBackends } from '@lipschitz/test-utils';
import { afterEach, expect, it } from 'vitest';
import { type TrainOptions, openRunDirectory, train } from '../src';
import { blobs, hingeLoss, tinyModel } from './fixtures';

// A full disk during training: the write that fails changes nothing (every file of the run is byte for byte
// what it was just before that write), and the message says which checkpoint survives.
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function files(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else out[relative(dir, path)] = readFileSync(path).toString('base64');
    }
  };
  walk(dir);
  return out;
}

/** A run directory whose `failAt`-th write of a file matching `pattern` writes half its bytes and fails with ENOSPC. */
async function diskFullAt(pattern: RegExp, failAt: number) {
  const dir = mkdtempSync(join(tmpdir(), 'lipschitz-full-disk-'));
  dirs.push(dir);
  let count = 0;
  const seen: { before: Record<string, string> | null } = { before: null };
  const store = await openRunDirectory(dir, {
    io: {
      async writeFileDurable(path, data) {
        if (pattern.test(path) && ++count === failAt) {
          seen.before = files(dir);
          await writeFile(path, data.subarray(0, data.length >> 1));
          throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
        }
        await writeFile(path, data);
      },
    },
  });
  return { dir, store, seen };
}

const settings = (overrides: Partial<TrainOptions>): TrainOptions => ({
  model: tinyModel({ seed: 3 }),
  trainSet: blobs(90, { seed: 1 }),
  testSet: blobs(30, { seed: 2 }),
  loss: hingeLoss(),
  optimizer: { kind: 'adam', learningRate: 0.02 },
  epochs: 3,
  batchSize: 32,
  seed: 5,
  ...overrides,
});

describeBackends(
  'train on a full disk',
  () => {
    it('the first latest checkpoint fails: nothing changes, and the message says there is nothing to resume', async () => {
      const { dir, store, seen } = await diskFullAt(/latest-.*\.bin/, 1);
      const model = tinyModel({ seed: 3 });
      const error = await train(settings({ model, store })).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'IO_ERROR' });
      const message = (error as Error).message;
      expect(message).toMatch(/^train: could not save the latest checkpoint of epoch 0 \(openRunDirectory: could not write .*ENOSPC/);
      expect(message).toMatch(/The run has no latest checkpoint yet, so there is nothing to resume: .* start it again\. The best checkpoint holds epoch 0\.$/);
      expect(message).not.toMatch(/previous checkpoint is intact/);
      expect(files(dir)).toEqual(seen.before);
      expect(readFileSync(join(dir, 'metrics.jsonl'), 'utf8')).toBe('');
      model.dispose();
    });

    it('a later checkpoint fails: every file is as before that write, the message names the intact checkpoint, and resume finishes', async () => {
      const { dir, store, seen } = await diskFullAt(/latest-.*\.bin/, 3);
      const model = tinyModel({ seed: 3 });
      const error = await train(settings({ model, store })).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'IO_ERROR' });
      expect((error as Error).message).toMatch(
        /^train: could not save the latest checkpoint of epoch 2 .*The latest checkpoint \(step 3, 1 epoch\(s\) completed\) is intact, and a resume rewrites the metrics to match it: .* resume\./,
      );
      expect(files(dir)).toEqual(seen.before);
      const resumed = await train(settings({ model: tinyModel({ seed: 3 }), runDir: dir, resume: true }));
      expect(resumed).toMatchObject({ status: 'finished', epochs: 3, steps: 9 });
      expect(readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).epoch)).toEqual([0, 1, 2, 3]);
      model.dispose();
    });

    it('the metrics line fails: metrics.jsonl keeps its bytes (no half line) and the message says the checkpoint is ahead', async () => {
      const { dir, store, seen } = await diskFullAt(/metrics\.jsonl/, 3);
      const model = tinyModel({ seed: 3 });
      const error = await train(settings({ model, store })).catch((e: unknown) => e);
      expect((error as Error).message).toMatch(/^train: could not append epoch 1 to the metrics .*ENOSPC.*The latest checkpoint \(step 3, 1 epoch\(s\) completed\) is intact/);
      expect(files(dir)).toEqual(seen.before);
      expect(readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).epoch)).toEqual([0]);
      model.dispose();
    });
  },
  ['cpu'],
);
