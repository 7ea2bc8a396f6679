import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAtomicWriteTemporary, writeFileAtomic } from './write-file-atomic';

const fresh = () => mkdtempSync(join(tmpdir(), 'atomic-'));

/** The id of a process that has exited (a writer killed with -9 leaves such a pid in its temporary name). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

function enospc(): Error {
  return Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
}

describe('writeFileAtomic', () => {
  it('writes and replaces a file, leaving no temporary file', async () => {
    const dir = fresh();
    const file = join(dir, 'a.json');
    await writeFileAtomic(file, '{"v":1}\n');
    await writeFileAtomic(file, new TextEncoder().encode('{"v":2}\n'));
    expect(readFileSync(file, 'utf8')).toBe('{"v":2}\n');
    expect(readdirSync(dir)).toEqual(['a.json']);
  });

  it('creates the directory on request', async () => {
    const file = join(fresh(), 'x', 'y', 'b.txt');
    await writeFileAtomic(file, 'hi', { makeDirectory: true });
    expect(readFileSync(file, 'utf8')).toBe('hi');
  });

  it('a full disk leaves the old file exactly as it was and removes the partial temporary file', async () => {
    const dir = fresh();
    const file = join(dir, 'metrics.jsonl');
    writeFileSync(file, 'old line\n');
    const failingWrite = async (path: string, data: Uint8Array) => {
      await writeFile(path, data.subarray(0, 3)); // a partial write, then the disk is full
      throw enospc();
    };
    await expect(writeFileAtomic(file, 'new content\n', { fn: 'demo', io: { writeFileDurable: failingWrite } })).rejects.toThrow(
      /^demo: could not write .*metrics\.jsonl \(ENOSPC: no space left on device\)\. Free disk space and retry; the file is unchanged\.$/,
    );
    expect(readFileSync(file, 'utf8')).toBe('old line\n');
    expect(readdirSync(dir)).toEqual(['metrics.jsonl']);
  });

  it('a failed rename removes the temporary file', async () => {
    const dir = fresh();
    const file = join(dir, 'c.bin');
    const failingRename = async () => {
      throw Object.assign(new Error('i/o error'), { code: 'EIO' });
    };
    await expect(writeFileAtomic(file, 'x', { io: { rename: failingRename } })).rejects.toMatchObject({ code: 'IO_ERROR' });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('removes the temporary files of a killed earlier writer of the same file, and only those', async () => {
    const dir = fresh();
    const file = join(dir, 'model.json');
    const dead = deadPid();
    const orphans = [`.model.json.${dead}.k3j2h1.tmp`, `model.json.${dead}.1733550000000.tmp`];
    const kept = [
      `.model.json.${process.pid}.inflight.tmp`, // a live writer (this process) may still rename it
      `.other.json.${dead}.k3j2h1.tmp`, // another file's
      'model.json.notes',
    ];
    for (const name of [...orphans, ...kept]) writeFileSync(join(dir, name), 'partial');
    expect(orphans.every((name) => isAtomicWriteTemporary('model.json', name))).toBe(true);
    await writeFileAtomic(file, '{}');
    expect(readdirSync(dir).sort()).toEqual([...kept, 'model.json'].sort());
  });

  it('refuses an empty path', async () => {
    await expect(writeFileAtomic('', 'x', { fn: 'demo' })).rejects.toThrow(/^demo: the path must be a non-empty string/);
  });
});
