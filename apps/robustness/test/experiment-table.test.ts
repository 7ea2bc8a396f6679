/**
 * What is tested: `robustness experiment --spec tiny.json --out DIR` end to end through the built CLI — one tiny row
 * (a few MNIST training steps with the compressed schedule, certify, PGD and Boundary, export, report): the row's
 * files, summary.json and summary.md agree with the files the steps wrote; running it again skips every finished
 * step; after an interruption it runs only what is missing (training resumed with --resume, a training that finished
 * before state.json recorded it not rerun); another spec in the same DIR is refused.
 * The spec validation and the Markdown layout are unit-tested in src/commands/experiment-table.test.ts.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExperimentSummaryRow } from '../src/commands/experiment-table';
import { buildCli, runCli } from './cli-bundle';

const work = mkdtempSync(join(tmpdir(), 'robustness-experiment-'));
let cli: string;

beforeAll(async () => {
  cli = await buildCli();
}, 180_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

const spec = {
  name: 'tiny table',
  rows: [{ model: 'small', conv: 'bcop' }],
  train: ['--epochs', '2', '--schedule', 'compressed', '--train-limit', '128', '--test-limit', '20', '--batch-size', '64'],
  certify: ['--test-limit', '20'],
  attacks: [
    ['--attack', 'pgd', '--eps', '1.58', '--steps', '5', '--test-limit', '10'],
    ['--attack', 'boundary', '--eps', '1.58', '--iterations', '10', '--test-limit', '4'],
  ],
};
const row = 'mnist-small-bcop-maxmin-s0';
const readJson = <T = Record<string, unknown>>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
/** The steps a run of `experiment` started ("[1/1] <row>: <step>" lines), in order. */
const stepsRun = (stdout: string) => [...stdout.matchAll(new RegExp(`^\\[1/1\\] ${row}: (\\S+)$`, 'gm'))].map((m) => m[1]);

describe('robustness experiment --spec --out', () => {
  const specPath = join(work, 'tiny.json');
  const out = join(work, 'table');
  const runDir = join(out, 'runs', row);

  it('runs every step of the row and writes summary.json and summary.md from the steps’ files', () => {
    writeFileSync(specPath, JSON.stringify(spec));
    const result = runCli(cli, ['experiment', '--spec', specPath, '--out', out]);
    expect(result.code, result.stderr).toBe(0);
    expect(stepsRun(result.stdout)).toEqual(['train', 'certify', 'attack-0', 'attack-1', 'export', 'report']);
    for (const file of ['config.json', 'metrics.jsonl', 'summary.json', 'certify.json', 'attack-pgd-steps5-n10.json', 'attack-boundary-it10-n4.json', 'report.html']) {
      expect(existsSync(join(runDir, file)), file).toBe(true);
    }
    const model = readJson<{ format: string; metadata: Record<string, unknown> }>(join(out, 'models', `${row}.json`));
    expect(model.format).toBe('lipschitz-model/1');
    expect(model.metadata).toMatchObject({ schedule: 'compressed', scheduleEpochs: 2, trainLimit: 128 });

    const summary = readJson<{ format: string; name: string; rows: ExperimentSummaryRow[] }>(join(out, 'summary.json'));
    expect(summary.format).toBe('lipschitz-experiment-summary/1');
    expect(summary.name).toBe('tiny table');
    expect(summary.rows).toHaveLength(1);
    const [r] = summary.rows;
    const certify = readJson<{ clean: number; certified: Record<string, number>; lipschitzUpperBound: number; count: number }>(join(runDir, 'certify.json'));
    const trained = readJson<{ status: string; epochs: number }>(join(runDir, 'summary.json'));
    expect(certify.count).toBe(20);
    expect(r).toMatchObject({
      id: row,
      status: 'finished',
      schedule: 'compressed 200→2',
      epochs: trained.epochs,
      clean: certify.clean,
      certified: certify.certified,
      lipschitzUpperBound: certify.lipschitzUpperBound,
      model_file: `models/${row}.json`,
    });
    expect(r.epochs).toBe(2);
    expect(r.trainFlags).toEqual(['--model', 'small', '--conv', 'bcop', '--activation', 'maxmin', '--dataset', 'mnist', '--seed', '0', ...spec.train]);
    expect(r.attacks.map((a) => [a.file, a.attack, a.count, a.brokenCertified])).toEqual([
      ['attack-boundary-it10-n4.json', 'boundary', 4, 0],
      ['attack-pgd-steps5-n10.json', 'pgd', 10, 0],
    ]);
    const boundary = readJson<{ robustAccuracy: number; medianPerturbation: number | null }>(join(runDir, 'attack-boundary-it10-n4.json'));
    expect(r.attacks[0]).toMatchObject({ robustAccuracy: boundary.robustAccuracy, medianPerturbation: boundary.medianPerturbation });

    const md = readFileSync(join(out, 'summary.md'), 'utf8');
    expect(md).toContain('# tiny table');
    expect(md).toContain('| row | status | epochs (best) | schedule | training time | clean % | certified % ε=1.58 | certified % ε=0.3 | boundary ε=1.58 % | pgd ε=1.58 % | broken certified | L |');
    const line = md.split('\n').find((l) => l.startsWith(`| ${row} |`)) as string;
    expect(line).toContain(`| finished | 2 (`);
    expect(line).toContain('| compressed 200→2 |');
    expect(line).toContain(`| ${(100 * certify.clean).toFixed(2)} | ${(100 * certify.certified['1.58']).toFixed(2)} | ${(100 * certify.certified['0.3']).toFixed(2)} |`);
    expect(line).toContain(`(on 4, median ‖δ‖₂ `);
    expect(line).toMatch(/\| 0 \| \d\.\d{7} \|$/);
    expect(md).toContain(`- \`${row}\`: \`robustness train ${r.trainFlags.join(' ')}\``);
  }, 600_000);

  it('running it again skips every finished step and changes no result', () => {
    const before = ['metrics.jsonl', 'certify.json', 'attack-boundary-it10-n4.json'].map((f) => statSync(join(runDir, f)).mtimeMs);
    const summaryBefore = readJson<{ rows: ExperimentSummaryRow[] }>(join(out, 'summary.json'));
    const result = runCli(cli, ['experiment', '--spec', specPath, '--out', out]);
    expect(result.code, result.stderr).toBe(0);
    expect(stepsRun(result.stdout)).toEqual([]);
    expect(['metrics.jsonl', 'certify.json', 'attack-boundary-it10-n4.json'].map((f) => statSync(join(runDir, f)).mtimeMs)).toEqual(before);
    expect(readJson(join(out, 'summary.json'))).toEqual(summaryBefore);
  }, 300_000);

  it('after an interruption it runs only the missing steps: a finished training is not rerun, an unfinished one resumes', () => {
    const statePath = join(out, 'state.json');
    const state = readJson<{ rows: Record<string, { done: string[] }> }>(statePath);
    // Killed after training finished, before state.json said so: nothing but the later steps run again.
    state.rows[row].done = [];
    writeFileSync(statePath, JSON.stringify(state));
    const metrics = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8');
    const again = runCli(cli, ['experiment', '--spec', specPath, '--out', out]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`[1/1] ${row}: train (already finished)`);
    expect(stepsRun(again.stdout)).toEqual(['certify', 'attack-0', 'attack-1', 'export', 'report']);
    expect(readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')).toBe(metrics);

    // Killed during training (the run is not finished): the train step resumes the run with --resume.
    const summary = readJson<Record<string, unknown>>(join(runDir, 'summary.json'));
    writeFileSync(join(runDir, 'summary.json'), JSON.stringify({ ...summary, status: 'running' }));
    state.rows[row].done = [];
    writeFileSync(statePath, JSON.stringify(state));
    const resumed = runCli(cli, ['experiment', '--spec', specPath, '--out', out]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(stepsRun(resumed.stdout)).toEqual(['train', 'certify', 'attack-0', 'attack-1', 'export', 'report']);
    expect(readJson<{ status: string }>(join(runDir, 'summary.json')).status).toBe('finished');
    expect(readJson<{ rows: ExperimentSummaryRow[] }>(join(out, 'summary.json')).rows[0].status).toBe('finished');
  }, 600_000);

  it('refuses another spec in the same results folder', () => {
    const other = join(work, 'other.json');
    writeFileSync(other, JSON.stringify({ ...spec, name: 'another table' }));
    const result = runCli(cli, ['experiment', '--spec', other, '--out', out]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n').at(-1)).toMatch(/^robustness: experiment: .*table holds a table run with another spec/);
  });
});
