import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertWritableOutput, reservedRunFile } from '../src/run';

function runDirectory(): string {
  const run = mkdtempSync(join(tmpdir(), 'robustness-run-files-'));
  writeFileSync(join(run, 'config.json'), '{"format":"lipschitz-train-run/1"}');
  mkdirSync(join(run, 'checkpoints'));
  return run;
}

describe("export never writes over a run's own files", () => {
  it('finds the reserved names of the --run directory and of any run directory above the file', () => {
    const run = runDirectory();
    expect(reservedRunFile(join(run, 'config.json'), run)).toEqual({ run, name: 'config.json' });
    expect(reservedRunFile(join(run, 'checkpoints', 'best.json'))).toEqual({ run, name: 'checkpoints' });
    expect(reservedRunFile(join(run, 'metrics.jsonl'))).toEqual({ run, name: 'metrics.jsonl' });
    expect(reservedRunFile(join(run, 'summary.json'))).toEqual({ run, name: 'summary.json' });
    expect(reservedRunFile(join(run, 'certify.json'))).toEqual({ run, name: 'certify.json' });
    expect(reservedRunFile(join(run, 'model.json'), run)).toBeNull();
    // A run directory that has not written its config.json yet is still the --run one.
    const fresh = mkdtempSync(join(tmpdir(), 'robustness-run-files-'));
    expect(reservedRunFile(join(fresh, 'summary.json'), fresh)).toEqual({ run: fresh, name: 'summary.json' });
    expect(reservedRunFile(join(fresh, 'summary.json'))).toBeNull();
  });

  it('refuses a reserved file even with --force, an existing file without --force, and a directory', () => {
    const run = runDirectory();
    for (const force of [false, true]) {
      expect(() => assertWritableOutput(join(run, 'config.json'), { force, run, option: '--out' })).toThrow(
        /^--out .*config\.json is config\.json of the run .*; writing it would break the run, even with --force\./,
      );
      expect(() => assertWritableOutput(join(run, 'checkpoints', 'best.json'), { force, run, option: '--out' })).toThrow(/is checkpoints of the run/);
    }
    const existing = join(run, 'model.json');
    writeFileSync(existing, '{}');
    let error: unknown;
    try {
      assertWritableOutput(existing, { force: false, run, option: '--out' });
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'ALREADY_EXISTS' });
    expect((error as Error).message).toMatch(/^--out .*model\.json already exists; pass --force to replace it/);
    expect(() => assertWritableOutput(existing, { force: true, run, option: '--out' })).not.toThrow();
    expect(() => assertWritableOutput(join(run, 'new.json'), { force: false, run, option: '--out' })).not.toThrow();
    expect(() => assertWritableOutput(join(run, 'checkpoints', '..', 'other'), { force: true, option: '--out' })).not.toThrow();
    mkdirSync(join(run, 'folder'));
    expect(() => assertWritableOutput(join(run, 'folder'), { force: true, run, option: '--out' })).toThrow(/is a directory/);
  });
});
