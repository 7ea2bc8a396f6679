/**
 * What is tested: the built `robustness` CLI end to end on real MNIST (a short training whose accuracy
 * threshold is stated below, then certify / attack / export / report), resume after `kill -9`, and every
 * error path of issue 8: unknown flags, a missing run directory, a corrupt checkpoint, a dataset that is
 * not there, a NaN loss, a full disk during a checkpoint, and refusing to overwrite a finished run.
 * What is not tested here: the paper-length experiments (see the README), the web page (web.test.ts).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareBackend } from '@lipschitz/backends';
import { certifyExportedModel } from '@lipschitz/certify';
import { mnist } from '@lipschitz/datasets';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certifyExported } from '../web/app';
import { buildCli, runCli, startCli } from './cli-bundle';

let cli: string;
const work = mkdtempSync(join(tmpdir(), 'robustness-test-'));

beforeAll(async () => {
  cli = await buildCli();
}, 180_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

/** The id of a process that has exited (what a writer killed with -9 leaves in its temporary file's name). */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
}

function oneLineError(run: { code: number | null; stderr: string }, pattern: RegExp, code = 1) {
  expect(run.code, run.stderr).toBe(code);
  // Progress lines may precede it on stderr; the error itself is exactly one line, the last one.
  const lines = run.stderr.trim().split('\n');
  expect(lines.filter((l) => l.startsWith('robustness: ')), run.stderr).toHaveLength(1);
  expect(lines[lines.length - 1]).toMatch(/^robustness: /);
  expect(lines[lines.length - 1]).toMatch(pattern);
}

describe('robustness CLI: help and argument errors', () => {
  it('--help lists every command; each command has --help', () => {
    const help = runCli(cli, ['--help']);
    expect(help.code).toBe(0);
    for (const command of ['train', 'certify', 'attack', 'export', 'report', 'quickstart']) expect(help.stdout).toContain(command);
    const trainHelp = runCli(cli, ['train', '--help']);
    expect(trainHelp.code).toBe(0);
    for (const flag of ['--model', '--conv', '--activation', '--dataset', '--epochs', '--batch-size', '--lr', '--seed', '--out', '--backend', '--train-limit', '--test-limit', '--resume']) {
      expect(trainHelp.stdout).toContain(flag);
    }
  });

  it('unknown flags and bad values give one line and a non-zero exit', () => {
    oneLineError(runCli(cli, ['certify', '--run', work, '--bogus']), /unknown option '--bogus'/, 2);
    oneLineError(runCli(cli, ['train', '--out', join(work, 'x'), '--epochs', 'zero']), /--epochs must be a positive integer, got "zero"/, 2);
    oneLineError(runCli(cli, ['train', '--out', join(work, 'x'), '--conv', 'fft']), /--conv must be one of bcop, rko, ossn, svcm, cayley, plain, got "fft"/, 2);
    oneLineError(runCli(cli, ['train', '--out', join(work, 'x'), '--orthogonalizer', 'qr']), /--orthogonalizer must be one of projected, reference, reference-gram, fast-polar, reprojected, got "qr"/, 2);
    oneLineError(runCli(cli, ['attack', '--run', work, '--attack', 'pgd', '--eps', '-1']), /--eps: "-1" is not a non-negative number/, 2);
    oneLineError(runCli(cli, ['train', '--out', join(work, 'x'), '--backend', 'node-gpu']), /tfjs-node-gpu/);
  });

  it('--version prints the version; every usage error exits 2, a failed command 1 (one rule for both CLIs)', () => {
    const version = runCli(cli, ['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^robustness \d+\.\d+\.\d+ \(@tensorflow\/tfjs-core 4\.22\.\d+\)$/);
    oneLineError(runCli(cli, ['certify']), /certify needs exactly one of --run DIR and --model FILE\.json/, 2);
    oneLineError(runCli(cli, ['train', '--out']), /option '--out <dir>' argument missing/, 2);
    oneLineError(runCli(cli, ['nonsense']), /unknown command 'nonsense'/, 2);
    // (A failed command exits 1: the missing run directory of the next test.)
    // quickstart runs the quick preset: one number of epochs, stated once.
    const quickstartHelp = runCli(cli, ['quickstart', '--help']).stdout;
    expect(quickstartHelp).toMatch(/--epochs <n>\s+epochs of the paper’s protocol \(default: the quick\s+preset’s, \d+\)/);
    for (const flag of ['--attack-limit', '--train-limit', '--test-limit', '--force']) expect(quickstartHelp).toContain(flag);
  }, 300_000);

  it('a missing run directory and a dataset that is not there are one-line errors', () => {
    oneLineError(runCli(cli, ['certify', '--run', join(work, 'no-such-run')]), /run directory .*no-such-run does not exist/);
    oneLineError(
      runCli(cli, ['train', '--out', join(work, 'fm'), '--dataset', 'fashion-mnist', '--data-dir', join(work, 'nothing-here')]),
      /fashion-mnist|Fashion-MNIST/,
    );
    oneLineError(runCli(cli, ['train', '--out', join(work, 'cf'), '--dataset', 'cifar10']), /cifar10 needs --data-dir/, 2);
  });
});

describe('robustness CLI: a short real MNIST run', () => {
  const run = join(work, 'short');

  it('trains BCOP Small on 2,048 MNIST images for one epoch to ≥ 70% clean and ≥ 40% certified at ε = 0.3', () => {
    // the scheme the threshold below was measured with (the default before issue 14); the projected default
    // reaches 68.9% clean after these 16 steps (it needs fewer seconds, not fewer steps: bench/README.md)
    const result = runCli(cli, ['train', '--out', run, '--train-limit', '2048', '--test-limit', '1000', '--epochs', '1', '--seed', '0', '--orthogonalizer', 'reference-gram']);
    expect(result.code, result.stderr).toBe(0);
    for (const file of ['config.json', 'metrics.jsonl', 'summary.json', 'report.html', 'spectra-init.json']) expect(existsSync(join(run, file)), file).toBe(true);
    expect(readdirSync(join(run, 'checkpoints')).length).toBeGreaterThan(0);
    const lines = readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.epoch)).toEqual([0, 1]);
    // Stated threshold: 16 Adam steps of the reference protocol (seed 0) reach ≥ 70% clean and ≥ 40% certified
    // accuracy at ε = 0.3 on the first 1,000 test images (measured: 76.7% clean).
    expect(lines[1].testAccuracy, JSON.stringify(lines[1])).toBeGreaterThanOrEqual(0.7);
    expect(lines[1].certified['0.3'], JSON.stringify(lines[1])).toBeGreaterThanOrEqual(0.4);
  });

  it('--time-budget stops training early: the partial epoch is evaluated and saved, the run is finished', () => {
    const out = join(work, 'budget');
    const result = runCli(cli, ['train', '--out', out, '--train-limit', '1024', '--test-limit', '100', '--epochs', '20', '--time-budget', '2', '--seed', '0']);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ status: 'finished', stoppedBy: 'time-budget' });
    expect(summary.steps).toBeGreaterThan(0);
    expect(summary.steps).toBeLessThan(20 * 8);
    const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.at(-1).step).toBe(summary.steps);
    expect(lines.at(-1).testAccuracy).toBeGreaterThan(0);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).experiment).toMatchObject({ orthogonalizer: 'projected', timeBudgetSeconds: 2 });
    oneLineError(runCli(cli, ['train', '--out', join(work, 'b0'), '--time-budget', '0']), /--time-budget/, 2);
  });

  it('--retraction-steps is stored in config.json; --resume keeps it and refuses another; it needs --orthogonalizer projected', () => {
    const out = join(work, 'retraction');
    const base = ['train', '--out', out, '--train-limit', '128', '--test-limit', '20', '--batch-size', '64', '--seed', '0'];
    const first = runCli(cli, [...base, '--epochs', '1', '--retraction-steps', '1']);
    expect(first.code, first.stderr).toBe(0);
    const experiment = () => JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).experiment;
    expect(experiment()).toMatchObject({ orthogonalizer: 'projected', retractionSteps: 1 });
    oneLineError(runCli(cli, [...base, '--epochs', '2', '--resume', '--retraction-steps', '2']), /--resume: the run was trained with --retraction-steps 1; leave --retraction-steps out/, 2);
    const resumed = runCli(cli, [...base, '--epochs', '2', '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(experiment()).toMatchObject({ retractionSteps: 1, epochs: 2 });
    oneLineError(runCli(cli, ['train', '--out', join(work, 'r0'), '--retraction-steps', '0']), /--retraction-steps must be a positive integer, got "0"/, 2);
    oneLineError(
      runCli(cli, ['train', '--out', join(work, 'r1'), '--orthogonalizer', 'reference', '--retraction-steps', '1']),
      /--retraction-steps applies to --orthogonalizer projected only \(got reference\)/,
      2,
    );
  });

  it('certify writes the certify.json contract with a sound bound close to 1', () => {
    const result = runCli(cli, ['certify', '--run', run, '--eps', '1.58,0.3', '--test-limit', '1000']);
    expect(result.code, result.stderr).toBe(0);
    const certify = JSON.parse(readFileSync(join(run, 'certify.json'), 'utf8'));
    expect(Object.keys(certify.certified).sort()).toEqual(['0.3', '1.58']);
    expect(certify.clean).toBeGreaterThanOrEqual(0.7);
    expect(certify.certified['1.58']).toBeLessThanOrEqual(certify.certified['0.3']);
    expect(certify.lipschitzUpperBound).toBeGreaterThanOrEqual(1);
    expect(certify.lipschitzUpperBound).toBeLessThan(1.001);
    expect(certify.empiricalLowerBound.lipschitzLowerBound).toBeLessThanOrEqual(certify.lipschitzUpperBound);
    expect(certify.layers.length).toBeGreaterThan(0);
  });

  it('PGD and FGSM break no certified example; export and report work; a finished run is not overwritten', () => {
    const pgd = runCli(cli, ['attack', '--run', run, '--attack', 'pgd', '--eps', '0.3', '--steps', '20', '--test-limit', '100']);
    expect(pgd.code, pgd.stderr).toBe(0);
    // Not the standard attack (ε 1.58, 200 steps, 1,000 images): its own file, named after its settings.
    expect(pgd.stdout).toContain('attack-pgd-eps0.3-steps20-n100.json');
    const pgdFile = JSON.parse(readFileSync(join(run, 'attack-pgd-eps0.3-steps20-n100.json'), 'utf8'));
    expect(pgdFile.count).toBe(100);
    expect(pgdFile.steps).toBe(20);
    expect(pgdFile.brokenCertified).toBe(0);
    expect(pgdFile.robustAccuracy).toBeGreaterThanOrEqual(pgdFile.certified);
    expect(pgdFile.robustAccuracy).toBeLessThanOrEqual(pgdFile.clean);
    const fgsm = runCli(cli, ['attack', '--run', run, '--attack', 'fgsm', '--eps', '0.3', '--test-limit', '100']);
    expect(fgsm.code, fgsm.stderr).toBe(0);
    const model = join(work, 'model.json');
    const exportRun = runCli(cli, ['export', '--run', run, '--out', model]);
    expect(exportRun.code, exportRun.stderr).toBe(0);
    const exported = JSON.parse(readFileSync(model, 'utf8'));
    expect(exported.format).toBe('lipschitz-model/1');
    // export states the L certify reports for the same run (the exact network's bound), under the same name
    const certified = JSON.parse(readFileSync(join(run, 'certify.json'), 'utf8'));
    expect(exported.lipschitzUpperBound).toBe(certified.lipschitzUpperBound);
    expect(exportRun.stdout).toContain(`L ≤ ${certified.lipschitzUpperBound.toPrecision(8)}`);
    expect(exported.input).toEqual({ shape: [28, 28, 1], range: [0, 1] });
    expect(exported.layers.map((l: { type: string }) => l.type)).toContain('conv2d');
    const report = runCli(cli, ['report', '--run', run]);
    expect(report.code).toBe(0);
    const html = readFileSync(join(run, 'report.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('Singular values');
    oneLineError(runCli(cli, ['train', '--out', run, '--train-limit', '256', '--epochs', '1']), /holds a finished run; pass --force/);
  });

  it('keeps every evaluation: another setting gets its own file, the same setting is refused without --force', () => {
    const standard = readFileSync(join(run, 'certify.json'), 'utf8');
    const other = runCli(cli, ['certify', '--run', run, '--eps', '0.5,1', '--test-limit', '100']);
    expect(other.code, other.stderr).toBe(0);
    expect(other.stdout).toContain('certify-n100-eps0.5_1.json');
    expect(readFileSync(join(run, 'certify.json'), 'utf8')).toBe(standard);
    const otherFile = JSON.parse(readFileSync(join(run, 'certify-n100-eps0.5_1.json'), 'utf8'));
    expect(otherFile.count).toBe(100);
    expect(otherFile.epsilons).toEqual(['0.5', '1']);
    oneLineError(runCli(cli, ['certify', '--run', run, '--eps', '0.5,1', '--test-limit', '100']), /already holds an evaluation with these settings; pass --force/);
    expect(runCli(cli, ['certify', '--run', run, '--eps', '0.5,1', '--test-limit', '100', '--force']).code).toBe(0);
    expect(runCli(cli, ['report', '--run', run]).code).toBe(0);
    const html = readFileSync(join(run, 'report.html'), 'utf8');
    for (const file of ['certify.json', 'certify-n100-eps0.5_1.json', 'attack-pgd-eps0.3-steps20-n100.json', 'attack-fgsm-eps0.3-n100.json']) expect(html).toContain(file);
  });

  it('a run directory whose config.json names another model (activation relu for a MaxMin checkpoint) is refused, not certified', () => {
    const edited = join(work, 'edited-config');
    cpSync(run, edited, { recursive: true });
    const configPath = join(edited, 'config.json');
    const config = JSON.parse(readFileSync(configPath, 'utf8'));
    config.experiment.activation = 'relu';
    writeFileSync(configPath, JSON.stringify(config));
    oneLineError(runCli(cli, ['certify', '--run', edited, '--test-limit', '10']), /checkpoint was saved from another model: .*"maxMin", this model's is "relu"/);
    expect(existsSync(join(edited, 'certify.json')) && statSync(join(edited, 'certify.json')).mtimeMs > statSync(configPath).mtimeMs).toBe(false);
  });

  it("export refuses an existing --out without --force, never writes a run's own files, and removes a killed export's orphan", () => {
    const model = join(work, 'exported.json');
    writeFileSync(model, '{"someone":"else\'s file"}\n');
    const before = readFileSync(model, 'utf8');
    oneLineError(runCli(cli, ['export', '--run', run, '--out', model]), /exported\.json already exists; pass --force to replace it/);
    expect(readFileSync(model, 'utf8')).toBe(before);
    const config = readFileSync(join(run, 'config.json'), 'utf8');
    // A usage error (exit code 2), with or without --force.
    oneLineError(runCli(cli, ['export', '--run', run, '--out', join(run, 'config.json'), '--force']), /config\.json of the run .*even with --force/, 2);
    oneLineError(runCli(cli, ['export', '--run', run, '--out', join(run, 'checkpoints', 'best.json'), '--force']), /checkpoints of the run/, 2);
    expect(readFileSync(join(run, 'config.json'), 'utf8')).toBe(config);
    // An export killed with -9 between its write and its rename leaves `.model.json.<pid>.<token>.tmp`.
    const orphan = join(work, `.exported.json.${deadPid()}.k1ll3d.tmp`);
    writeFileSync(orphan, '{"format":"lipsch');
    const replaced = runCli(cli, ['export', '--run', run, '--out', model, '--force']);
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(JSON.parse(readFileSync(model, 'utf8')).format).toBe('lipschitz-model/1');
    expect(existsSync(orphan)).toBe(false);
    expect(readdirSync(work).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('robustness CLI: --checkpoint latest (the end of training, no test-set selection)', () => {
  const run = join(work, 'latest');

  it('certify, attack and export open the latest checkpoint on request, name their files -latest and record its step', () => {
    // Four epochs at a rate of 0.1 on 256 images: the test accuracy of seed 0 peaks at epoch 3 (measured: 59%, then
    // 36% after epoch 4), so the best and the latest checkpoints differ (a precondition, checked below; training on
    // wasm is deterministic).
    const trained = runCli(cli, ['train', '--out', run, '--train-limit', '256', '--test-limit', '100', '--batch-size', '32', '--epochs', '4', '--lr', '0.1', '--seed', '0']);
    expect(trained.code, trained.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(join(run, 'summary.json'), 'utf8'));
    expect(summary.best.step, JSON.stringify(summary)).not.toBe(summary.last.step);
    expect(summary.best.testAccuracy).not.toBe(summary.last.testAccuracy);

    const standard = runCli(cli, ['certify', '--run', run]);
    expect(standard.code, standard.stderr).toBe(0);
    const latest = runCli(cli, ['certify', '--run', run, '--checkpoint', 'latest']);
    expect(latest.code, latest.stderr).toBe(0);
    expect(latest.stdout).toContain('certify-latest.json');
    // Each file is its checkpoint's: the same evaluation train logged for that step (one definition of certified).
    const best = JSON.parse(readFileSync(join(run, 'certify.json'), 'utf8'));
    const last = JSON.parse(readFileSync(join(run, 'certify-latest.json'), 'utf8'));
    // Without --test-limit both certify the run's own test set (its --test-limit 100), as train evaluated it.
    expect(best.count).toBe(100);
    expect(last.count).toBe(100);
    expect(best).toMatchObject({ checkpoint: 'best', step: summary.best.step, clean: summary.best.testAccuracy, certified: summary.best.certified });
    expect(last).toMatchObject({ checkpoint: 'latest', step: summary.last.step, clean: summary.last.testAccuracy, certified: summary.last.certified });

    const fgsm = runCli(cli, ['attack', '--run', run, '--attack', 'fgsm', '--eps', '0.3', '--checkpoint', 'latest']);
    expect(fgsm.code, fgsm.stderr).toBe(0);
    const attack = JSON.parse(readFileSync(join(run, 'attack-fgsm-eps0.3-latest.json'), 'utf8'));
    expect(attack).toMatchObject({ checkpoint: 'latest', step: summary.last.step, clean: summary.last.testAccuracy });
    expect(existsSync(join(run, 'attack-fgsm-eps0.3.json'))).toBe(false);

    const file = join(work, 'latest-model.json');
    const exported = runCli(cli, ['export', '--run', run, '--out', file, '--checkpoint', 'latest']);
    expect(exported.code, exported.stderr).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8')).metadata).toMatchObject({ checkpoint: 'latest', checkpointStep: summary.last.step });
    const fromFile = runCli(cli, ['certify', '--model', file, '--test-limit', '100', '--out', join(work, 'latest-model.certify.json')]);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(work, 'latest-model.certify.json'), 'utf8'))).toMatchObject({ clean: last.clean, certified: last.certified });

    oneLineError(runCli(cli, ['certify', '--run', run, '--checkpoint', 'final']), /--checkpoint must be one of best, latest, got "final"/, 2);
    oneLineError(runCli(cli, ['certify', '--model', file, '--checkpoint', 'latest']), /--checkpoint is an option of --run/, 2);
  });
});

describe('robustness CLI: the unconstrained baseline (--conv plain)', () => {
  const run = join(work, 'plain');

  it('trains the plain Small network and certifies it with its honest bound (the product of exact layer norms, not 1)', () => {
    const trained = runCli(cli, ['train', '--conv', 'plain', '--out', run, '--train-limit', '128', '--test-limit', '50', '--epochs', '1', '--seed', '0']);
    expect(trained.code, trained.stderr).toBe(0);
    const lines = readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(Object.keys(lines[1].certified).sort()).toEqual(['0.3', '1.58']);
    const result = runCli(cli, ['certify', '--run', run, '--eps', '1.58,0.3', '--test-limit', '50']);
    expect(result.code, result.stderr).toBe(0);
    const certify = JSON.parse(readFileSync(join(run, 'certify.json'), 'utf8'));
    expect(certify.layers.map((l: { type: string }) => l.type)).toEqual(['invertibleDownsample', 'conv2d', 'maxMin', 'invertibleDownsample', 'conv2d', 'maxMin', 'flatten', 'dense', 'maxMin', 'dense']);
    // The bound is the product of the per-layer exact norms (times the float32 slack), far from 1 for unconstrained layers.
    const product = certify.layers.reduce((p: number, l: { spectralNorm: number }) => p * l.spectralNorm, 1);
    expect(certify.exactProduct).toBeCloseTo(product, 6);
    expect(certify.lipschitzUpperBound).toBeGreaterThanOrEqual(certify.exactProduct);
    expect(Math.abs(Math.log(certify.lipschitzUpperBound))).toBeGreaterThan(0.01);
    // Each conv's norm is the largest of its exact singular values, computed here by the app's own FFT path.
    const convNorms = certify.layers.filter((l: { type: string }) => l.type === 'conv2d').map((l: { spectralNorm: number }) => l.spectralNorm);
    const spectraMax = certify.spectra.map((s: { singularValues: number[] }) => Math.max(...s.singularValues));
    expect(spectraMax).toHaveLength(2);
    for (let i = 0; i < 2; i++) expect(convNorms[i]).toBeCloseTo(spectraMax[i], 5);
    expect(certify.empiricalLowerBound.lipschitzLowerBound).toBeLessThanOrEqual(certify.lipschitzUpperBound);
    expect(certify.certified['1.58']).toBeLessThanOrEqual(certify.certified['0.3']);
    expect(result.stdout).toMatch(new RegExp(`L ≤ ${certify.lipschitzUpperBound.toPrecision(8).replace('.', '\\.')}`));
  }, 240_000);
});

describe('robustness CLI: one model, one certified count', () => {
  const run = join(work, 'short');
  const model = join(work, 'model.json');

  it('the training log, certify --run, export, certify --model, certifyExportedModel and the web page agree exactly', async () => {
    // The run, its certify.json (1,000 images, ε 1.58 and 0.3) and model.json come from the tests above.
    const metrics = readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const best = metrics.reduce((a, b) => (b.testAccuracy > a.testAccuracy ? b : a));
    const fromRun = JSON.parse(readFileSync(join(run, 'certify.json'), 'utf8'));
    const exported = JSON.parse(readFileSync(model, 'utf8'));
    const out = join(work, 'model.certify.json');
    const result = runCli(cli, ['certify', '--model', model, '--eps', '1.58,0.3', '--test-limit', '1000']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(out);
    const fromFile = JSON.parse(readFileSync(out, 'utf8'));
    // one rule everywhere: the training log, certify --run and certify --model certify float-soundly (the
    // default) with the exact network's L, and the exported file states that same L
    expect(fromRun.floatErrorModel).toBe('rigorous');
    expect(fromFile.floatErrorModel).toBe('rigorous');
    expect(best.floatErrorModel).toBe('rigorous');
    expect(fromFile.lipschitzUpperBound).toBe(fromRun.lipschitzUpperBound);
    expect(best.lipschitzUpperBound).toBe(fromRun.lipschitzUpperBound);
    expect(exported.lipschitzUpperBound).toBe(fromRun.lipschitzUpperBound);
    // one certified count: the training log, certify --run, certify --model
    expect(fromRun.count).toBe(1000);
    expect(fromFile.count).toBe(1000);
    expect(fromFile.clean).toBe(fromRun.clean);
    expect(best.testAccuracy).toBe(fromRun.clean);
    for (const eps of ['1.58', '0.3']) {
      expect(fromFile.certified[eps], eps).toBe(fromRun.certified[eps]);
      expect(best.certified[eps], eps).toBe(fromRun.certified[eps]);
    }
    // the library and the web page's code path, in this process, on the same backend (wasm, what auto picks in Node)
    await prepareBackend('wasm');
    const { test } = await mnist({ trainLimit: 1, testLimit: 1000 });
    const images = tf.tensor4d(test.images, [1000, 28, 28, 1]);
    const labels = tf.tensor1d(test.labels, 'int32');
    const library = await certifyExportedModel(exported, images, labels, { epsilons: [1.58, 0.3] });
    const oldRule = await certifyExportedModel(exported, images, labels, { epsilons: [1.58, 0.3], floatErrorModel: 'assume-relative-1e-5' });
    tf.dispose([images, labels]);
    // the old rule stays selectable: its L carries the float32 slack (1 + 1e-5)^D and it certifies at least as many
    const linear = fromRun.layers.filter((l: { type: string }) => l.type === 'conv2d' || l.type === 'dense').length;
    expect(oldRule.lipschitzUpperBound / fromRun.lipschitzUpperBound).toBeCloseTo((1 + 1e-5) ** linear, 12);
    for (const eps of ['1.58', '0.3']) expect(oldRule.certified[eps], eps).toBeGreaterThanOrEqual(fromRun.certified[eps]);
    const page = await certifyExported(exported, test, 1000);
    for (const eps of ['1.58', '0.3']) {
      expect(library.certified[eps], eps).toBe(fromRun.certified[eps]);
      expect(page.certified[eps], eps).toBe(fromRun.certified[eps]);
    }
    expect(library.lipschitzUpperBound).toBe(fromRun.lipschitzUpperBound);
    expect(page.lipschitzUpperBound).toBe(fromRun.lipschitzUpperBound);
    expect(page.clean).toBe(fromRun.clean);
    // an existing result is not overwritten without --force
    oneLineError(runCli(cli, ['certify', '--model', model, '--test-limit', '10']), /model\.certify\.json already exists; pass --force/);
    expect(runCli(cli, ['certify', '--model', model, '--test-limit', '10', '--force']).code).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8')).count).toBe(10);
  }, 300_000);

  it('certify --model refuses a hostile file with the validator\'s one-line message', async () => {
    const hostile = JSON.parse(readFileSync(model, 'utf8'));
    const last = hostile.layers.length - 1;
    hostile.layers[last].bias = { shape: [2, 5], dtype: 'float32', data: hostile.layers[last].bias.data };
    const path = join(work, 'hostile.json');
    writeFileSync(path, JSON.stringify(hostile));
    oneLineError(runCli(cli, ['certify', '--model', path]), new RegExp(`validateExportedModel: layer ${last} \\(dense\\) bias must have a shape of 1 positive integers`));
    expect(existsSync(join(work, 'hostile.certify.json'))).toBe(false);
    oneLineError(runCli(cli, ['certify', '--model', path, '--run', run]), /certify needs exactly one of --run DIR and --model FILE\.json/, 2);
  });
});

describe('robustness CLI: the quickstart job', () => {
  it('runs train, certify, PGD, FGSM and the report in one process', () => {
    const out = join(work, 'quickstart');
    const result = runCli(cli, ['quickstart', '--out', out, '--train-limit', '256', '--test-limit', '100', '--attack-limit', '20']);
    expect(result.code, result.stderr).toBe(0);
    // 20 attacked images instead of the standard 1,000 (capped at the run's 100): the attack files say so.
    for (const file of ['metrics.jsonl', 'losses.jsonl', 'certify.json', 'attack-pgd-n20.json', 'attack-fgsm-n20.json', 'report.html']) expect(existsSync(join(out, file)), file).toBe(true);
    expect(result.stdout).toMatch(/report: .*report\.html/);
  });
});

describe('robustness CLI: interruptions and failures', () => {
  const args = (out: string) => ['train', '--out', out, '--train-limit', '512', '--test-limit', '200', '--epochs', '3', '--seed', '1'];

  it('resumes after kill -9 and ends with the same metrics as an uninterrupted run', async () => {
    const straight = join(work, 'straight');
    expect(runCli(cli, args(straight)).code).toBe(0);
    const killed = join(work, 'killed');
    const child = startCli(cli, args(killed));
    // Kill as soon as the first epoch's checkpoint is on disk (mid-run).
    await new Promise<void>((resolve, reject) => {
      const started = Date.now();
      const timer = setInterval(() => {
        const metrics = join(killed, 'metrics.jsonl');
        if (existsSync(metrics) && readFileSync(metrics, 'utf8').includes('"epoch":1')) {
          clearInterval(timer);
          child.kill('SIGKILL');
          resolve();
        } else if (Date.now() - started > 240_000) {
          clearInterval(timer);
          child.kill('SIGKILL');
          reject(new Error('the training never reached epoch 1'));
        }
      }, 50);
    });
    await new Promise((resolve) => child.once('exit', resolve));
    expect(existsSync(join(killed, 'summary.json')) && JSON.parse(readFileSync(join(killed, 'summary.json'), 'utf8')).status === 'finished').toBe(false);
    const resumed = runCli(cli, [...args(killed), '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const strip = (dir: string) =>
      readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => {
          const { epochMs: _a, elapsedMs: _b, ...rest } = JSON.parse(l);
          return rest;
        });
    expect(strip(killed)).toEqual(strip(straight));
  });

  it('a corrupt checkpoint is a one-line error and changes nothing', () => {
    const run = join(work, 'straight');
    const checkpoints = join(run, 'checkpoints');
    const binary = readdirSync(checkpoints).find((f) => f.startsWith('best') && f.endsWith('.bin'));
    expect(binary).toBeDefined();
    const path = join(checkpoints, binary as string);
    const original = readFileSync(path);
    writeFileSync(path, original.subarray(0, 100));
    const before = readdirSync(run).map((f) => [f, statSync(join(run, f)).mtimeMs]);
    oneLineError(runCli(cli, ['certify', '--run', run, '--test-limit', '10']), /checkpoint|corrupt|truncated|bytes/i);
    expect(readdirSync(run).map((f) => [f, statSync(join(run, f)).mtimeMs])).toEqual(before);
    writeFileSync(path, original);
  });

  it('a NaN loss stops training with one line', () => {
    oneLineError(runCli(cli, ['train', '--out', join(work, 'nan'), '--train-limit', '512', '--test-limit', '100', '--epochs', '2', '--lr', '1e38']), /NaN|infinite/);
  });

  it('a full disk during a checkpoint is one line, and leaves no partial files', () => {
    const mountPoint = join(work, 'small-disk');
    mkdirSync(mountPoint);
    // 1 MiB holds the run's small files but not a checkpoint (BCOP Small + Adam state ≈ 2 MB). Needs root.
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mountPoint]);
    try {
      const out = join(mountPoint, 'run');
      const full = runCli(cli, ['train', '--out', out, '--train-limit', '256', '--test-limit', '50', '--epochs', '1']);
      oneLineError(full, /ENOSPC|disk is full|no space/i);
      // Honest: it names the checkpoint that survives, or says there is none to resume from.
      const line = full.stderr.trim().split('\n').pop() as string;
      expect(line).not.toMatch(/the previous checkpoint is intact/);
      if (existsSync(join(out, 'checkpoints', 'latest.json'))) expect(line).toMatch(/The latest checkpoint \(step \d+, \d+ epoch\(s\) completed\) is intact/);
      else expect(line).toMatch(/The run has no latest checkpoint yet, so there is nothing to resume/);
      const leftovers = (dir: string): string[] =>
        readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? leftovers(join(dir, e.name)) : [e.name]));
      expect(leftovers(out).filter((f) => f.endsWith('.tmp') || f.includes('.tmp.'))).toEqual([]);
      const summary = join(out, 'summary.json');
      expect(existsSync(summary) && JSON.parse(readFileSync(summary, 'utf8')).status).not.toBe('finished');
    } finally {
      execFileSync('umount', [mountPoint]);
    }
  });
});
