/**
 * What is tested: the table spec's validation (every malformed field refused with the field named), the expansion
 * of rows into model × conv × activation × dataset × seed with their train flags, and the Markdown summary.
 * The end-to-end run (train, certify, attack, export, report through the built CLI, then resume) is in
 * test/experiment-table.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ExperimentSpec, expandRows, experimentCommand, parseExperimentSpec, summaryMarkdown } from './experiment-table';

const spec: ExperimentSpec = {
  name: 't',
  rows: [
    { model: 'small', conv: ['bcop', 'rko'], seeds: [0, 1] },
    { model: 'large', conv: 'bcop', train: ['--epochs', '3'] },
  ],
  train: ['--epochs', '2', '--train-limit', '100'],
  timeBudgetSeconds: 60,
};

describe('experiment spec', () => {
  it('expands rows with ids and train flags (shared, then per-row, then the budget)', () => {
    const rows = expandRows(parseExperimentSpec(spec, 'spec.json'));
    expect(rows.map((r) => r.id)).toEqual([
      'mnist-small-bcop-maxmin-s0',
      'mnist-small-bcop-maxmin-s1',
      'mnist-small-rko-maxmin-s0',
      'mnist-small-rko-maxmin-s1',
      'mnist-large-bcop-maxmin-s0',
    ]);
    expect(rows[4].trainFlags).toEqual(['--model', 'large', '--conv', 'bcop', '--activation', 'maxmin', '--dataset', 'mnist', '--seed', '0', '--epochs', '2', '--train-limit', '100', '--epochs', '3', '--time-budget', '60']);
  });

  it('refuses malformed specs, naming the field', () => {
    const bad: [unknown, RegExp][] = [
      [[], /JSON object/],
      [{ ...spec, extra: 1 }, /unknown key "extra"/],
      [{ ...spec, name: '' }, /"name"/],
      [{ ...spec, rows: [] }, /"rows"/],
      [{ ...spec, rows: [{ conv: 'bcop' }] }, /rows\[0\]\.model is required/],
      [{ ...spec, rows: [{ model: 'small', conv: 'bcop', seeds: [-1] }] }, /rows\[0\]\.seeds/],
      [{ ...spec, rows: [{ model: 'small', conv: 'bcop', epochs: 3 }] }, /unknown key "epochs"/],
      [{ ...spec, train: ['--out', 'x'] }, /may not contain --out/],
      [{ ...spec, attacks: ['--attack'] }, /"attacks"/],
      [{ ...spec, timeBudgetSeconds: 0 }, /timeBudgetSeconds/],
    ];
    for (const [value, pattern] of bad) expect(() => parseExperimentSpec(value, 'spec.json')).toThrow(pattern);
    expect(() => expandRows({ name: 'd', rows: [{ model: 'small', conv: 'bcop' }, { model: 'small', conv: ['bcop'] }] })).toThrow(/appears twice/);
  });

  it('writes a Markdown table with every ε and attack column and the commands', () => {
    const md = summaryMarkdown(spec, [
      {
        id: 'mnist-small-bcop-maxmin-s0',
        model: 'small',
        conv: 'bcop',
        activation: 'maxmin',
        dataset: 'mnist',
        seed: 0,
        trainFlags: ['--epochs', '2'],
        status: 'finished',
        schedule: 'compressed 200→2',
        epochs: 2,
        bestEpoch: 2,
        trainingSeconds: 120,
        clean: 0.9612,
        certified: { '1.58': 0.4005 },
        lipschitzUpperBound: 1.0000415,
        attacks: [
          { file: 'attack-pgd.json', attack: 'pgd', epsilon: 1.58, count: 1000, robustAccuracy: 0.65, brokenCertified: 0 },
          { file: 'attack-boundary.json', attack: 'boundary', epsilon: 1.58, count: 100, robustAccuracy: 0.7, brokenCertified: 0, medianPerturbation: 1.93456 },
        ],
        model_file: 'models/mnist-small-bcop-maxmin-s0.json',
      },
    ]);
    expect(md).toContain('| row | status | epochs (best) | schedule | training time | clean % | certified % ε=1.58 | pgd ε=1.58 % | boundary ε=1.58 % | broken certified | L |');
    expect(md).toContain(
      '| mnist-small-bcop-maxmin-s0 | finished | 2 (2) | compressed 200→2 | 2.0 min | 96.12 | 40.05 | 65.00 (on 1000) | 70.00 (on 100, median ‖δ‖₂ 1.935) | 0 | 1.0000415 |',
    );
    expect(md).toContain('`robustness train --epochs 2`');
  });

  it('passes --data-dir to the rows whose dataset is not MNIST only, and refuses it twice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'experiment-data-dir-'));
    try {
      const specPath = join(dir, 'spec.json');
      writeFileSync(specPath, JSON.stringify({ name: 'd', rows: [{ model: 'small', conv: 'bcop', dataset: ['mnist', 'cifar10'] }] }));
      const lines: string[] = [];
      await experimentCommand({ spec: specPath, out: join(dir, 'out'), dryRun: true, dataDir: '/data/cifar.tar.gz', log: (l) => lines.push(l) });
      expect(lines[0]).toMatch(/^mnist-small-bcop-maxmin-s0: train .*--dataset mnist --seed 0 \(done/);
      expect(lines[0]).not.toContain('--data-dir');
      expect(lines[1]).toMatch(/^cifar10-small-bcop-maxmin-s0: train .*--dataset cifar10 --seed 0 --data-dir \/data\/cifar\.tar\.gz \(done/);
      writeFileSync(specPath, JSON.stringify({ name: 'd', rows: [{ model: 'small', conv: 'bcop', dataset: 'cifar10' }], train: ['--data-dir', 'x'] }));
      await expect(experimentCommand({ spec: specPath, out: join(dir, 'out2'), dryRun: true, dataDir: 'y' })).rejects.toThrow(/names --data-dir in the spec and --data-dir was given too/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
