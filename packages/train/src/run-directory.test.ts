import { appendFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CHECKPOINT_FORMAT, type Checkpoint } from './checkpoint';
import { openRunDirectory } from './run-directory';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lipschitz-train-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function fakeCheckpoint(fill: number, bytes = 64): Checkpoint {
  const weights = new Uint8Array(bytes).fill(fill).buffer;
  return { manifest: { format: CHECKPOINT_FORMAT, modelName: 'm', optimizerClass: 'Adam', tensors: [], byteLength: bytes, meta: { fill } }, weights };
}

function enospc(): Error {
  return Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
}

describe('openRunDirectory', () => {
  it('round-trips config, metrics, summary and checkpoints, keeping one binary per slot', async () => {
    const dir = tempDir();
    const store = await openRunDirectory(dir);
    expect(await store.loadCheckpoint('latest')).toBeNull();
    expect(await store.readConfig()).toBeNull();
    await store.writeConfig({ a: 1 });
    await store.appendMetrics({ epoch: 0 });
    await store.appendMetrics({ epoch: 1 });
    await store.saveCheckpoint('latest', fakeCheckpoint(1));
    await store.saveCheckpoint('latest', fakeCheckpoint(2));
    await store.saveCheckpoint('best', fakeCheckpoint(3));
    await store.writeSummary({ status: 'finished' });
    expect(await store.readConfig()).toEqual({ a: 1 });
    expect(readFileSync(join(dir, 'metrics.jsonl'), 'utf8')).toBe('{"epoch":0}\n{"epoch":1}\n');
    const latest = await store.loadCheckpoint('latest');
    expect(latest?.manifest.meta).toEqual({ fill: 2 });
    expect(new Uint8Array(latest?.weights as ArrayBuffer)).toEqual(new Uint8Array(64).fill(2));
    expect((await store.loadCheckpoint('best'))?.manifest.meta).toEqual({ fill: 3 });
    const files = readdirSync(join(dir, 'checkpoints')).sort();
    expect(files.filter((f) => f.endsWith('.bin'))).toHaveLength(2);
    expect(files.filter((f) => f.includes('.tmp'))).toEqual([]);
    await store.writeMetrics([{ epoch: 0 }]);
    expect(readFileSync(join(dir, 'metrics.jsonl'), 'utf8')).toBe('{"epoch":0}\n');
    expect(await store.readSummary()).toEqual({ status: 'finished' });
    await store.clear();
    expect(readdirSync(join(dir, 'checkpoints'))).toEqual([]);
    expect(existsSync(join(dir, 'config.json'))).toBe(false);
  });

  it('a full disk while writing a checkpoint raises IO_ERROR and leaves the previous checkpoint intact', async () => {
    const dir = tempDir();
    let failNext = false;
    const store = await openRunDirectory(dir, {
      io: {
        async writeFileDurable(path, data) {
          // Write half the bytes, then fail, as a full disk does.
          writeFileSync(path, data.subarray(0, data.length >> 1));
          if (failNext) throw enospc();
          writeFileSync(path, data);
        },
      },
    });
    await store.saveCheckpoint('latest', fakeCheckpoint(7));
    failNext = true;
    const error = await store.saveCheckpoint('latest', fakeCheckpoint(8, 128)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'IO_ERROR' });
    expect((error as Error).message).toMatch(/^openRunDirectory: could not write .*latest-.*\.bin \(ENOSPC: no space left on device\)\. Free disk space/);
    const reopened = await openRunDirectory(dir);
    const latest = await reopened.loadCheckpoint('latest');
    expect(latest?.manifest.meta).toEqual({ fill: 7 });
    expect(new Uint8Array(latest?.weights as ArrayBuffer)).toEqual(new Uint8Array(64).fill(7));
    expect(readdirSync(join(dir, 'checkpoints')).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('a full disk while appending to metrics.jsonl leaves it exactly as before (no half line)', async () => {
    const dir = tempDir();
    let full = false;
    const halfThenFull = async (path: string, data: Uint8Array) => {
      writeFileSync(path, data.subarray(0, data.length - 5));
      if (full) throw enospc();
      writeFileSync(path, data);
    };
    // A store that appends in place (as this one did before) is given the same partial append.
    const appendHalfThenFull = async (path: string, data: Uint8Array) => {
      appendFileSync(path, data.subarray(0, data.length - 5));
      if (full) throw enospc();
      appendFileSync(path, data.subarray(data.length - 5));
    };
    const store = await openRunDirectory(dir, { io: { writeFileDurable: halfThenFull, appendFileDurable: appendHalfThenFull } as never });
    await store.writeMetrics([]);
    await store.appendMetrics({ epoch: 0, testAccuracy: 0.5 });
    const before = readFileSync(join(dir, 'metrics.jsonl'));
    full = true;
    await expect(store.appendMetrics({ epoch: 1, testAccuracy: 0.75 })).rejects.toThrow(
      /^openRunDirectory: could not write .*metrics\.jsonl \(ENOSPC: no space left on device\)\. Free disk space/,
    );
    expect(readFileSync(join(dir, 'metrics.jsonl'))).toEqual(before);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('a failure while committing the manifest also keeps the previous checkpoint', async () => {
    const dir = tempDir();
    let fail = false;
    const store = await openRunDirectory(dir, {
      io: {
        async rename(from, to) {
          if (fail && to.endsWith('.json')) throw enospc();
          const { rename } = await import('node:fs/promises');
          await rename(from, to);
        },
      },
    });
    await store.saveCheckpoint('best', fakeCheckpoint(4));
    fail = true;
    await expect(store.saveCheckpoint('best', fakeCheckpoint(5))).rejects.toMatchObject({ code: 'IO_ERROR' });
    expect((await (await openRunDirectory(dir)).loadCheckpoint('best'))?.manifest.meta).toEqual({ fill: 4 });
    expect(readdirSync(join(dir, 'checkpoints')).filter((f) => f.endsWith('.bin'))).toHaveLength(1);
  });

  it('raises IO_ERROR when a file stands where the checkpoints directory should be', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'checkpoints'), 'not a directory');
    await expect(openRunDirectory(dir)).rejects.toThrow(/^openRunDirectory: could not create .*checkpoints \(EEXIST/);
  });

  it('detects a damaged binary or manifest', async () => {
    const dir = tempDir();
    const store = await openRunDirectory(dir);
    await store.saveCheckpoint('latest', fakeCheckpoint(1));
    const bin = readdirSync(join(dir, 'checkpoints')).find((f) => f.endsWith('.bin')) as string;
    writeFileSync(join(dir, 'checkpoints', bin), new Uint8Array(64).fill(9));
    await expect(store.loadCheckpoint('latest')).rejects.toThrow(/^openRunDirectory: .* does not match .*latest\.json \(length or SHA-256\)/);
    writeFileSync(join(dir, 'checkpoints', 'latest.json'), '{ broken');
    await expect(store.loadCheckpoint('latest')).rejects.toMatchObject({ code: 'CORRUPT_DATA' });
    await expect(openRunDirectory('')).rejects.toThrow(/^openRunDirectory: dir must be a non-empty path/);
  });
});
