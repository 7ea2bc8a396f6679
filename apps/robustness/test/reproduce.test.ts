/**
 * What is tested (issue 18), through the built CLI:
 * - the decision attacks, `attack --attack boundary|pointwise`: their settings-named files, the median ℓ2
 *   perturbation (an upper bound, never below a certified radius: no certified example broken), --force, flags
 *   that belong to another attack refused; checkpointed parts: killed after a part, the same command resumes to the
 *   uninterrupted result, a progress file of other settings or a broken one refused, --force discards it;
 * - the compressed schedule, `train --schedule compressed`: the learning rate of every epoch, stored in config.json,
 *   kept by `--resume` (which extends the run at the same rate), a conflicting `--schedule` refused;
 * - CIFAR-10 from a folder or a .tar.gz of class-named image folders: a generated fixture of 32×32 JPEG files
 *   (encoded with jpeg-js, the encoder of @lipschitz/datasets), trained and certified from both forms with the same
 *   numbers, labels in the official class order, and every malformed input a one-line error;
 * - the model zoo, `certify --model zoo:NAME`: every shipped MNIST model re-checks to the numbers its index states
 *   (the CIFAR-10 ones to their bound: their test set is not shipped; bench/cifar10-copy.bench.ts re-checks them with
 *   the data); an unknown name lists the names.
 * Not tested here: full-size runs (README), the shared lossy CIFAR-10 copy (the fixture has its layout).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REFERENCE_LR_GAMMA } from '@lipschitz/train';
import jpeg from 'jpeg-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttackFile } from '../src/commands/attack';
import { loadCifar10 } from '../src/experiment';
import type { ZooIndex } from '../src/zoo';
import type { ExportedModel } from '@lipschitz/core';
import { networkLipschitzUpperBound } from '@lipschitz/model-format';
import { zooSizeLimit } from '../scripts/zoo-limits.mjs';
import { buildCli, runCli, startCli } from './cli-bundle';

const work = mkdtempSync(join(tmpdir(), 'robustness-reproduce-'));
const appDir = join(import.meta.dirname, '..');
let cli: string;

beforeAll(async () => {
  // The package's layout: dist/cli.js with the zoo in models/ beside dist/ (as apps/robustness ships).
  cli = await buildCli(join(work, 'package', 'dist'));
  cpSync(join(appDir, 'models'), join(work, 'package', 'models'), { recursive: true });
}, 180_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

function oneLineError(run: { code: number | null; stderr: string }, pattern: RegExp, code = 1) {
  expect(run.code, run.stderr).toBe(code);
  const lines = run.stderr.trim().split('\n');
  expect(lines.filter((l) => l.startsWith('robustness: ')), run.stderr).toHaveLength(1);
  expect(lines[lines.length - 1]).toMatch(pattern);
}

const readJson = <T = Record<string, unknown>>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
const metricsOf = (run: string) =>
  readFileSync(join(run, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { epoch: number; lr: number; testAccuracy: number; epochMs?: number; elapsedMs?: number });

describe('robustness attack --attack boundary|pointwise', () => {
  const run = join(work, 'mnist');

  it('trains a tiny MNIST run to attack', () => {
    const trained = runCli(cli, ['train', '--out', run, '--train-limit', '1024', '--test-limit', '40', '--epochs', '1', '--seed', '0']);
    expect(trained.code, trained.stderr).toBe(0);
  });

  it('Boundary: a settings-named file with the median perturbation found; no certified example broken; --force to repeat', () => {
    const args = ['attack', '--run', run, '--attack', 'boundary', '--eps', '1.58', '--iterations', '30', '--test-limit', '6'];
    const result = runCli(cli, args);
    expect(result.code, result.stderr).toBe(0);
    const path = join(run, 'attack-boundary-it30-n6.json');
    expect(result.stdout).toContain(path);
    const file = readJson<AttackFile>(path);
    expect(file).toMatchObject({ attack: 'boundary', epsilon: 1.58, iterations: 30, count: 6, brokenCertified: 0, brokenCertifiedIndices: [] });
    expect(file.robustAccuracy).toBeGreaterThanOrEqual(file.certified);
    expect(file.robustAccuracy).toBeLessThanOrEqual(file.clean);
    // Every correctly classified image is attacked; the median is finite when more than half got a point.
    expect(file.attackedCorrect).toBe(Math.round(file.clean * 6));
    expect(file.perturbationsFound).toBeLessThanOrEqual(file.attackedCorrect as number);
    if ((file.perturbationsFound as number) > (file.attackedCorrect as number) / 2) expect(file.medianPerturbation).toBeGreaterThan(0);
    else expect(file.medianPerturbation).toBeNull();
    expect(result.stdout).toMatch(/median ‖δ‖₂ (\d+\.\d{4}|∞)/);
    expect(file.meanQueries).toBeGreaterThan(0);
    oneLineError(runCli(cli, args), /attack-boundary-it30-n6\.json already holds an evaluation with these settings; pass --force/);
    expect(runCli(cli, [...args, '--force']).code).toBe(0);
    // The same attack, again: the seed is fixed, so the result is too.
    expect({ ...readJson<AttackFile>(path), seconds: 0 }).toEqual({ ...file, seconds: 0 });
  }, 240_000);

  it('Boundary in checkpointed parts: killed mid-attack, the same command resumes from the progress file to the uninterrupted result', async () => {
    const args = (dir: string) => ['attack', '--run', dir, '--attack', 'boundary', '--eps', '1.58', '--iterations', '150', '--test-limit', '8', '--part-images', '2'];
    const straight = join(work, 'mnist-straight');
    cpSync(run, straight, { recursive: true });
    const uninterrupted = runCli(cli, args(straight));
    expect(uninterrupted.code, uninterrupted.stderr).toBe(0);
    const name = 'attack-boundary-it150-n8.json';
    const progressPath = join(run, `${name}.progress`);
    const child = startCli(cli, args(run));
    // Kill as soon as the first part's progress is on disk (mid-attack).
    await new Promise<void>((resolve, reject) => {
      const started = Date.now();
      const timer = setInterval(() => {
        if (existsSync(progressPath)) {
          clearInterval(timer);
          child.kill('SIGKILL');
          resolve();
        } else if (Date.now() - started > 120_000 || child.exitCode !== null) {
          clearInterval(timer);
          child.kill('SIGKILL');
          reject(new Error('the attack never wrote its progress file'));
        }
      }, 10);
    });
    await new Promise((resolve) => child.once('exit', resolve));
    expect(existsSync(join(run, name))).toBe(false);
    const progress = readJson<{ format: string; done: number; perturbationNorms: unknown[]; queries: number[]; seconds: number; settings: { checkpoint?: string } }>(progressPath);
    expect(progress.format).toBe('lipschitz-attack-progress/1');
    expect([2, 4, 6]).toContain(progress.done);
    expect(progress.perturbationNorms).toHaveLength(progress.done);
    // A progress file of another model (the run trained further) or a broken one is refused, and left as it is.
    const original = readFileSync(progressPath, 'utf8');
    writeFileSync(progressPath, JSON.stringify({ ...progress, settings: { ...progress.settings, checkpoint: 'best-of-another-model' } }));
    oneLineError(runCli(cli, args(run)), /holds an unfinished attack with other settings .*pass --force to discard it/);
    writeFileSync(progressPath, original.slice(0, 40));
    oneLineError(runCli(cli, args(run)), /is not valid JSON .*Delete it or pass --force to start the attack again\./);
    for (const broken of [{ queries: [] }, { perturbationNorms: progress.perturbationNorms.map(() => 'far') }, { brokenCertifiedIndices: [progress.done] }]) {
      writeFileSync(progressPath, JSON.stringify({ ...progress, ...broken }));
      oneLineError(runCli(cli, args(run)), /is not a lipschitz-attack-progress\/1 file of this attack; delete it or pass --force/);
    }
    // The finished images are taken from the progress file, not attacked again: marked ones show in the result.
    const marked = join(work, 'mnist-marked');
    cpSync(run, marked, { recursive: true });
    writeFileSync(join(marked, `${name}.progress`), JSON.stringify({ ...progress, queries: new Array(progress.done).fill(1e9), seconds: 1e6 }));
    // (also under --force, as `robustness experiment` reruns an interrupted attack step)
    expect(runCli(cli, [...args(marked), '--force']).code).toBe(0);
    const markedFile = readJson<AttackFile>(join(marked, name));
    expect(markedFile.meanQueries).toBeGreaterThan((1e9 * progress.done) / 8);
    expect(markedFile.seconds).toBeGreaterThan(1e6);
    writeFileSync(progressPath, original);
    const resumed = runCli(cli, args(run));
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(existsSync(progressPath)).toBe(false);
    const file = readJson<AttackFile>(join(run, name));
    expect(file.seconds).toBeGreaterThanOrEqual(progress.seconds);
    expect({ ...file, seconds: 0 }).toEqual({ ...readJson<AttackFile>(join(straight, name)), seconds: 0 });
    expect(existsSync(join(straight, `${name}.progress`))).toBe(false);
    // --force discards an unfinished attack of other settings and starts again.
    writeFileSync(progressPath, JSON.stringify({ ...progress, settings: { ...progress.settings, checkpoint: 'other' } }));
    expect(runCli(cli, [...args(run), '--force']).code).toBe(0);
    expect(existsSync(progressPath)).toBe(false);
    expect({ ...readJson<AttackFile>(join(run, name)), seconds: 0 }).toEqual({ ...file, seconds: 0 });
  }, 300_000);

  it('Pointwise: a settings-named file (query cap in the name) with the median perturbation; the report lists both', () => {
    const result = runCli(cli, ['attack', '--run', run, '--attack', 'pointwise', '--eps', '1.58', '--max-queries', '200', '--test-limit', '4']);
    expect(result.code, result.stderr).toBe(0);
    const file = readJson<AttackFile>(join(run, 'attack-pointwise-q200-n4.json'));
    expect(file).toMatchObject({ attack: 'pointwise', maxQueries: 200, count: 4, brokenCertified: 0 });
    expect(file.robustAccuracy).toBeGreaterThanOrEqual(file.certified);
    expect(file.robustAccuracy).toBeLessThanOrEqual(file.clean);
    expect(file).toHaveProperty('medianPerturbation');
    expect(runCli(cli, ['report', '--run', run]).code).toBe(0);
    const html = readFileSync(join(run, 'report.html'), 'utf8');
    expect(html).toContain('attack-boundary-it30-n6.json');
    expect(html).toContain('Boundary (decision-based), ε = 1.58, 30 iterations');
    expect(html).toContain('Pointwise (decision-based), ε = 1.58, at most 200 queries per image');
    expect(html).toMatch(/median ‖δ‖₂ found/);
    // Without --test-limit: the standard images, capped by the run's own test set (40 here, not the standard 100), so
    // the file needs no n-suffix.
    const bare = runCli(cli, ['attack', '--run', run, '--attack', 'pointwise', '--eps', '1.58', '--max-queries', '20']);
    expect(bare.code, bare.stderr).toBe(0);
    expect(readJson<AttackFile>(join(run, 'attack-pointwise-q20.json'))).toMatchObject({ count: 40, maxQueries: 20, brokenCertified: 0 });
  }, 240_000);

  it('refuses the options of another attack and an unknown attack (usage errors)', () => {
    oneLineError(runCli(cli, ['attack', '--run', run, '--attack', 'pgd', '--eps', '1.58', '--iterations', '5']), /--iterations is an option of --attack boundary, not pgd/, 2);
    oneLineError(runCli(cli, ['attack', '--run', run, '--attack', 'boundary', '--eps', '1.58', '--max-queries', '5']), /--max-queries is an option of --attack pointwise, not boundary/, 2);
    oneLineError(runCli(cli, ['attack', '--run', run, '--attack', 'hopskip', '--eps', '1.58']), /--attack must be one of pgd, fgsm, boundary, pointwise, got "hopskip"/, 2);
    oneLineError(runCli(cli, ['attack', '--run', run, '--attack', 'fgsm', '--eps', '1.58', '--part-images', '5']), /--part-images is an option of --attack boundary and pointwise, not fgsm/, 2);
    expect(runCli(cli, ['attack', '--help']).stdout).toMatch(/--iterations <n>[\s\S]*--max-queries <n>[\s\S]*--part-images <n>/);
  });
});

describe('robustness train --schedule compressed', () => {
  const run = join(work, 'compressed');
  const base = ['train', '--out', run, '--train-limit', '128', '--test-limit', '20', '--batch-size', '64', '--seed', '0'];

  it('uses lr₀·γ^(e·200/N) per epoch, stores the schedule, and --resume to more epochs keeps it', () => {
    const first = runCli(cli, [...base, '--epochs', '2', '--schedule', 'compressed']);
    expect(first.code, first.stderr).toBe(0);
    expect(readJson<{ experiment: Record<string, unknown> }>(join(run, 'config.json')).experiment).toMatchObject({ schedule: 'compressed', scheduleEpochs: 2 });
    const lr = (e: number) => 1e-3 * REFERENCE_LR_GAMMA ** ((e * 200) / 2);
    for (const m of metricsOf(run).filter((m) => m.epoch > 0)) expect(m.lr / lr(m.epoch), `epoch ${m.epoch}`).toBeCloseTo(1, 12);
    expect(metricsOf(run).at(-1)?.lr).toBeCloseTo(1e-3 * REFERENCE_LR_GAMMA ** 200, 15);
    // --resume without --schedule: the run's own schedule, still compressed into the 2 epochs it started with.
    const resumed = runCli(cli, [...base, '--epochs', '3', '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(readJson<{ experiment: Record<string, unknown> }>(join(run, 'config.json')).experiment).toMatchObject({ schedule: 'compressed', scheduleEpochs: 2, epochs: 3 });
    const lines = metricsOf(run);
    expect(lines.map((m) => m.epoch)).toEqual([0, 1, 2, 3]);
    expect(lines[3].lr / lr(3)).toBeCloseTo(1, 12);
  }, 240_000);

  it('refuses a resume with another --schedule, changing nothing; a new run defaults to the paper’s exponential schedule', () => {
    const before = readFileSync(join(run, 'config.json'), 'utf8');
    oneLineError(
      runCli(cli, [...base, '--epochs', '4', '--resume', '--schedule', 'exponential']),
      /--resume: the run was trained with --schedule compressed; pass --schedule compressed \(or leave --schedule out\) to continue it exactly, or --force to start over with exponential\./,
      2,
    );
    expect(readFileSync(join(run, 'config.json'), 'utf8')).toBe(before);
    expect(metricsOf(run).map((m) => m.epoch)).toEqual([0, 1, 2, 3]);
    const plain = join(work, 'exponential');
    const result = runCli(cli, ['train', '--out', plain, '--train-limit', '64', '--test-limit', '10', '--epochs', '1']);
    expect(result.code, result.stderr).toBe(0);
    expect(readJson<{ experiment: Record<string, unknown> }>(join(plain, 'config.json')).experiment.schedule).toBe('exponential');
    expect(metricsOf(plain)[1].lr).toBeCloseTo(1e-3 * REFERENCE_LR_GAMMA, 15);
    oneLineError(runCli(cli, ['train', '--out', join(work, 'bad-schedule'), '--schedule', 'onecycle']), /--schedule must be one of exponential, compressed, cosine, got "onecycle"/, 2);
  }, 240_000);
});

describe('robustness train --schedule cosine', () => {
  it('anneals from lr₀ to the paper’s end rate over --epochs, stored in config.json', () => {
    const run = join(work, 'cosine');
    const result = runCli(cli, ['train', '--out', run, '--train-limit', '128', '--test-limit', '20', '--batch-size', '64', '--seed', '0', '--epochs', '2', '--schedule', 'cosine']);
    expect(result.code, result.stderr).toBe(0);
    expect(readJson<{ experiment: Record<string, unknown> }>(join(run, 'config.json')).experiment).toMatchObject({ schedule: 'cosine', scheduleEpochs: 2 });
    const end = 1e-3 * REFERENCE_LR_GAMMA ** 200;
    const lrs = metricsOf(run).map((m) => m.lr);
    expect(lrs).toHaveLength(3);
    expect(lrs[1] / ((1e-3 + end) / 2)).toBeCloseTo(1, 12); // halfway: cos(π/2) = 0
    expect(lrs[2] / end).toBeCloseTo(1, 12);
  }, 240_000);
});


const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

/** A w×h JPEG (quality 90) of class c: a flat colour per class, with a pattern that depends on k. */
function jpegImage(c: number, k: number, w = 32, h = 32): Uint8Array {
  const data = new Uint8Array(w * h * 4);
  for (let p = 0; p < w * h; p++) {
    data[p * 4] = (25 * c + 7 * k) % 256;
    data[p * 4 + 1] = (255 - 20 * c + ((p % w) * 3)) % 256;
    data[p * 4 + 2] = (60 + 15 * c + Math.floor(p / w) * 2) % 256;
    data[p * 4 + 3] = 255;
  }
  return new Uint8Array(jpeg.encode({ data, width: w, height: h }, 90).data);
}

function writeFile(path: string, bytes: Uint8Array | string) {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, bytes);
}

/** The lossy CIFAR-10 copy's layout (apps/robustness/README.md, `--dataset cifar10`): train/<class>/NNNN.jpg, test/<class>/NNNN.jpg. */
function writeCifarFolder(root: string, perClass: { train: number; test: number }, size = 32) {
  for (const [split, n] of Object.entries(perClass)) {
    for (const [c, cls] of CLASSES.entries()) for (let k = 0; k < n; k++) writeFile(join(root, split, cls, `${String(k).padStart(4, '0')}.jpg`), jpegImage(c, k, size, size));
  }
}

function tarGz(root: string, out: string) {
  const result = spawnSync('tar', ['-czf', out, 'train', 'test'], { cwd: root });
  expect(result.status, String(result.stderr)).toBe(0);
}

describe('--dataset cifar10 --data-dir FOLDER|ARCHIVE.tar.gz', () => {
  const folder = join(work, 'cifar-jpeg');
  const archive = join(work, 'cifar-jpeg.tar.gz');

  beforeAll(() => {
    writeCifarFolder(folder, { train: 3, test: 2 });
    tarGz(folder, archive);
  });

  it('reads the folder and the archive alike: CIFAR-10 class order, 32×32 RGB, class-interleaved; a train limit decodes only those images', async () => {
    for (const source of [folder, archive]) {
      const { train, test } = await loadCifar10(source);
      expect([train.count, test.count, train.height, train.width, train.channels, train.numClasses]).toEqual([30, 20, 32, 32, 3, 10]);
      expect(Array.from(train.labels.subarray(0, 10))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(Array.from(test.labels)).toEqual([...CLASSES.keys(), ...CLASSES.keys()]);
      // ship (8), first image, first pixel: red (25·8) / 255 up to the JPEG's loss
      expect(train.images[8 * 32 * 32 * 3]).toBeCloseTo(200 / 255, 1);
      const evaluationOnly = await loadCifar10(source, 0);
      expect(evaluationOnly.train.count).toBe(0);
      expect(Array.from(evaluationOnly.test.images)).toEqual(Array.from(test.images));
    }
  });

  it('trains and certifies from the .tar.gz and from the folder with the same numbers', () => {
    const args = (dataDir: string, out: string) => ['train', '--dataset', 'cifar10', '--data-dir', dataDir, '--epochs', '1', '--batch-size', '10', '--test-limit', '20', '--seed', '0', '--out', out];
    const fromArchive = join(work, 'cifar-archive-run');
    const fromFolder = join(work, 'cifar-folder-run');
    for (const [dataDir, out] of [
      [archive, fromArchive],
      [folder, fromFolder],
    ]) {
      const trained = runCli(cli, args(dataDir, out));
      expect(trained.code, trained.stderr).toBe(0);
      expect(readJson<{ experiment: Record<string, unknown> }>(join(out, 'config.json')).experiment).toMatchObject({ dataset: 'cifar10', dataDir, augment: 'cifar' });
      const certified = runCli(cli, ['certify', '--run', out]);
      expect(certified.code, certified.stderr).toBe(0);
    }
    const strip = (run: string) => metricsOf(run).map(({ epochMs: _a, elapsedMs: _b, ...rest }) => rest);
    expect(strip(fromFolder)).toEqual(strip(fromArchive));
    expect(metricsOf(fromArchive).map((m) => m.epoch)).toEqual([0, 1]);
    const a = readJson<{ clean: number; certified: Record<string, number>; count: number; lipschitzUpperBound: number }>(join(fromArchive, 'certify.json'));
    const b = readJson<typeof a>(join(fromFolder, 'certify.json'));
    expect(a.count).toBe(20);
    expect(Object.keys(a.certified).sort()).toEqual(['0.1', '0.1411764706']);
    expect([b.clean, b.certified, b.lipschitzUpperBound]).toEqual([a.clean, a.certified, a.lipschitzUpperBound]);
  }, 300_000);

  it('a missing, malformed or mislaid data set is a one-line error', () => {
    const train = (dataDir: string) => runCli(cli, ['train', '--dataset', 'cifar10', '--data-dir', dataDir, '--epochs', '1', '--out', join(work, 'cifar-bad', String(Math.random()).slice(2))]);
    oneLineError(train(join(work, 'no-such-cifar.tar.gz')), /--data-dir .*no-such-cifar\.tar\.gz does not exist\. Pass the official binary files .* or a folder or \.tar\/\.tar\.gz archive/);
    // not an archive
    const junk = join(work, 'junk.tar.gz');
    writeFileSync(junk, 'this is not an archive'.repeat(60));
    oneLineError(train(junk), /junk\.tar\.gz has a damaged tar header .*not a tar file/);
    // a truncated download
    const bytes = readFileSync(archive);
    const truncated = join(work, 'truncated.tar.gz');
    writeFileSync(truncated, bytes.subarray(0, bytes.length >> 1));
    oneLineError(train(truncated), /truncated\.tar\.gz starts like a gzip file but does not decompress/);
    // a folder of something else
    const empty = join(work, 'not-cifar');
    mkdirSync(empty, { recursive: true });
    writeFileSync(join(empty, 'readme.txt'), 'hello');
    oneLineError(train(empty), /--data-dir .*not-cifar holds neither the CIFAR-10 binary files .* nor train\/ and test\/ image folders/);
    // a class that is not a CIFAR-10 class
    const extra = join(work, 'extra-class');
    writeCifarFolder(extra, { train: 1, test: 1 });
    writeFile(join(extra, 'train', 'unicorn', '0000.jpg'), jpegImage(0, 0));
    oneLineError(train(extra), /class folder "unicorn" that is not among the classes \[airplane, automobile/);
    // images of another size
    const small = join(work, 'small-images');
    writeCifarFolder(small, { train: 1, test: 1 }, 28);
    oneLineError(train(small), /the train images are 28×28; CIFAR-10 models take 32×32 RGB images/);
    // a damaged image
    const damaged = join(work, 'damaged-image');
    writeCifarFolder(damaged, { train: 1, test: 1 });
    writeFile(join(damaged, 'test', 'cat', '0000.jpg'), jpegImage(3, 0).subarray(0, 100));
    oneLineError(train(damaged), /test\/cat\/0000\.jpg does not decode/);
    // Nothing half-written: the data set is read before anything goes to --out.
    expect(existsSync(join(work, 'cifar-bad'))).toBe(false);
  }, 240_000);
});

describe('robustness certify --model zoo:NAME', () => {
  const index = readJson<ZooIndex>(join(appDir, 'models', 'zoo.json'));

  it('ships at least one model, each a lipschitz-model/1 file of the size the index states (Small under 1.2 MiB, Large 12, FC-3 16)', () => {
    expect(Object.keys(index.models).length).toBeGreaterThan(0);
    // The limits make-zoo-model.mjs enforces (scripts/zoo-limits.mjs), as the README states them.
    expect(['mnist-small-bcop', 'mnist-large-bcop', 'mnist-fc3-bcop-cosine'].map((name) => zooSizeLimit(name).limitMiB)).toEqual([1.2, 12, 16]);
    for (const [name, entry] of Object.entries(index.models)) {
      const path = join(appDir, 'models', entry.file);
      expect(statSync(path).size, name).toBe(entry.bytes);
      expect(entry.bytes, name).toBeLessThan(zooSizeLimit(name).limitMiB * 1024 * 1024);
      expect(readJson<{ format: string }>(path).format).toBe('lipschitz-model/1');
    }
  });

  it('re-checks the bound of every zoo model to the number its index states (the only check for CIFAR-10 models here)', () => {
    for (const [name, entry] of Object.entries(index.models)) {
      const model = readJson<ExportedModel>(join(appDir, 'models', entry.file));
      expect(networkLipschitzUpperBound(model).lipschitzUpperBound, name).toBe(entry.certified.lipschitzUpperBound);
    }
  });

  // One test per model, so that each has its own time limit (a Large model's 1,000 images take a minute on a loaded
  // machine, and the zoo grows).
  for (const [name, entry] of Object.entries(index.models).filter(([, e]) => e.dataset === 'mnist')) {
    it(`re-checks zoo:${name} to the numbers its index states, writing --out`, () => {
      const out = join(work, `${name}.zoo-certify.json`);
      const result = runCli(cli, ['certify', '--model', `zoo:${name}`, '--test-limit', String(entry.certified.count), '--out', out]);
      expect(result.code, result.stderr).toBe(0);
      const file = readJson<{ clean: number; certified: Record<string, number>; count: number; lipschitzUpperBound: number; model: string }>(out);
      expect(file.model).toBe(join(work, 'package', 'models', entry.file));
      expect({ count: file.count, clean: file.clean, certified: file.certified, lipschitzUpperBound: file.lipschitzUpperBound }, name).toEqual(entry.certified);
    }, 240_000);
  }

  it('writes ./NAME.certify.json without --out, never into the zoo folder', () => {
    const [name, entry] = Object.entries(index.models)[0];
    const cwd = join(work, 'cwd');
    mkdirSync(cwd, { recursive: true });
    const result = spawnSync(process.execPath, [cli, 'certify', '--model', `zoo:${name}`, '--test-limit', '10'], { cwd, encoding: 'utf8', env: { ...process.env, CI: '1' } });
    expect(result.status, result.stderr).toBe(0);
    expect(existsSync(join(cwd, `${name}.certify.json`))).toBe(true);
    expect(readdirSync(join(work, 'package', 'models')).sort()).toEqual(readdirSync(join(appDir, 'models')).sort());
    expect(entry.dataset).toBe('mnist');
  });

  it('an unknown name is a usage error that lists the zoo', () => {
    const names = Object.keys(index.models).sort().map((n) => `zoo:${n}`).join(', ');
    oneLineError(runCli(cli, ['certify', '--model', 'zoo:mnist-huge']), new RegExp(`--model zoo:mnist-huge: the zoo has no model "mnist-huge"; it has ${names.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.`), 2);
  });
});
