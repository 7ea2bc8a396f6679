import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { prepareCliBackend, writeJsonAtomic } from '@lipschitz/app-kit';
import type { BackendName } from '@lipschitz/backends';
import { type CertifyReport, certifyExportedModel, certifyModel, empiricalLipschitzLowerBound } from '@lipschitz/certify';
import { LipschitzError } from '@lipschitz/core';
import { exportedForward, validateExportedModel } from '@lipschitz/model-format';
import * as tf from '@tensorflow/tfjs-core';
import { assertNewEvaluation, certifyFileName } from '../evaluations';
import { type DatasetName, DATASETS, inputShapeOf, loadDataset } from '../experiment';
import { type RunCheckpoint, withRunOnTestSet } from '../run';
import { type ConvSpectrum, spectraOfBound } from '../spectra';
import { testTensors } from '../test-set';

export interface CertifyCommandOptions {
  run: string;
  epsilons: { text: string; value: number }[];
  testLimit?: number;
  backend: BackendName;
  /** Replace an evaluation with the same settings (default: refuse). */
  force?: boolean;
  quiet?: boolean;
  /** The checkpoint to certify (default `best`; `latest` writes `certify[-<settings>]-latest.json`). */
  checkpoint?: RunCheckpoint;
}

/** Options of {@link certifyModelFileCommand} (`robustness certify --model FILE.json`). */
export interface CertifyModelFileOptions {
  /** The `lipschitz-model/1` file. */
  model: string;
  /** ℓ2 radii (default: the paper's for the dataset). */
  epsilons?: { text: string; value: number }[];
  testLimit?: number;
  backend: BackendName;
  /** Where to write the result (default: `FILE.certify.json` beside the model file). */
  out?: string;
  /** Overwrite an existing output file. */
  force?: boolean;
  /** The test set (default: the file's `metadata.dataset`, else by input shape: [28, 28, 1] MNIST, [32, 32, 3] CIFAR-10). */
  dataset?: DatasetName;
  dataDir?: string;
  quiet?: boolean;
}

/** The file `robustness certify` writes (design.md contract, plus details for the report). */
export interface CertifyFile {
  clean: number;
  certified: Record<string, number>;
  lipschitzUpperBound: number;
  layers: unknown[];
  /** Number of test images certified: the first `count` of the test set. */
  count: number;
  /** The radii as given (`--eps`), in order. */
  epsilons?: string[];
  /** Which checkpoint of the run was certified (`exported` for `--model`). */
  checkpoint: string;
  /** `--run`: the training step of that checkpoint (`summary.json`'s `best.step` or `last.step`). */
  step?: number | null;
  /** The certified `lipschitz-model/1` file (only for `--model`). */
  model?: string;
  exactProduct: number;
  safetyFactor: number;
  /** How the float32 evaluation is accounted for: `'rigorous'` (the default: a proven error bound is subtracted from each margin). */
  floatErrorModel?: string;
  /** Certified accuracy on a grid of ε (for the plot). */
  curve: { epsilon: number; certified: number }[];
  /** Empirical lower bound on the Lipschitz constant (gradient norms and pairs) on up to 200 test images. */
  empiricalLowerBound: { lipschitzLowerBound: number; jacobianNormLowerBound: number; pairRatioLowerBound: number; images: number };
  /** Exact singular values of each conv layer of the certified model (computed once, with the bound). */
  spectra: ConvSpectrum[];
  seconds: number;
}

/** The parts of `certify.json` every source (run directory or exported file) fills the same way. */
async function certifyFile(
  report: CertifyReport,
  predict: (x: tf.Tensor) => tf.Tensor,
  images: tf.Tensor,
  count: number,
  epsilons: { text: string; value: number }[],
  maxEps: number,
): Promise<Omit<CertifyFile, 'checkpoint' | 'seconds'>> {
  const certified: Record<string, number> = {};
  for (const e of epsilons) certified[e.text] = report.certified[String(e.value)];
  const curve = Array.from({ length: 61 }, (_, i) => {
    const epsilon = (maxEps * i) / 60;
    let n = 0;
    for (let k = 0; k < report.examples.count; k++) if (report.examples.correct[k] && report.examples.radii[k] > epsilon) n++;
    return { epsilon, certified: n / report.examples.count };
  });
  const sampleCount = Math.min(200, count);
  const sample = tf.slice(images, 0, sampleCount) as tf.Tensor4D;
  let empirical: Awaited<ReturnType<typeof empiricalLipschitzLowerBound>>;
  try {
    empirical = await empiricalLipschitzLowerBound(predict, sample, { seed: 0 });
  } finally {
    sample.dispose();
  }
  return {
    clean: report.clean,
    certified,
    lipschitzUpperBound: report.lipschitzUpperBound,
    layers: report.layers,
    count,
    exactProduct: report.exactProduct,
    safetyFactor: report.safetyFactor,
    floatErrorModel: report.floatErrorModel,
    curve,
    empiricalLowerBound: { ...empirical, images: sampleCount },
    spectra: spectraOfBound(report.bound),
  };
}

function printSummary(file: CertifyFile, epsilons: { text: string }[], count: number, path?: string): void {
  const parts = epsilons.map((e) => `certified@${e.text} ${(100 * file.certified[e.text]).toFixed(2)}%`);
  process.stdout.write(`clean ${(100 * file.clean).toFixed(2)}%, ${parts.join(', ')}, L ≤ ${file.lipschitzUpperBound.toPrecision(8)} (${count} test images)${path ? ` → ${path}` : ''}\n`);
}

/**
 * `robustness certify --run DIR`: certified accuracy of the best checkpoint (or `checkpoint: 'latest'`, the end of
 * training) at each ε (an example counts only if correct and its margin exceeds √2·ε·L + √2·(E(0) + E(ε)), L the sound
 * bound of the exact network and E the proven float32 error bound of `@lipschitz/certify`), written to DIR/certify.json
 * for the run's standard settings, else to a file named after the settings (`certifyFileName`); an evaluation with the
 * same settings is replaced only with `force`. Each layer's spectrum is computed once (the bound and the report's
 * spectra share it).
 */
export async function certifyCommand({ run, epsilons, testLimit, backend, force = false, quiet = false, checkpoint = 'best' }: CertifyCommandOptions): Promise<CertifyFile> {
  const started = performance.now();
  return withRunOnTestSet(run, backend, { testLimit, checkpoint }, async (opened, { images, labels, count, runCount }) => {
    const { model, config } = opened;
    const path = join(run, certifyFileName(config.dataset, runCount, { epsilons: epsilons.map((e) => e.text), count, checkpoint }));
    assertNewEvaluation('certify', path, force);
    const inputShape = inputShapeOf(config.dataset);
    const report = await certifyModel(model, images, labels, { epsilons: epsilons.map((e) => e.value), inputShape, batchSize: 500, singularValues: true });
    const maxEps = config.dataset === 'cifar10' ? 0.5 : 3;
    const parts = await certifyFile(report, (x) => model.apply(x), images, count, epsilons, maxEps);
    const file: CertifyFile = { ...parts, epsilons: epsilons.map((e) => e.text), checkpoint: opened.checkpoint, step: opened.step, seconds: (performance.now() - started) / 1000 };
    await writeJsonAtomic(path, file);
    if (!quiet) printSummary(file, epsilons, count, path);
    return file;
  });
}

/** Where `certify --model FILE` writes by default: `FILE.certify.json` (the `.json` of FILE dropped) beside it. */
export function certifyOutputOf(model: string): string {
  const name = basename(model).replace(/\.json$/i, '');
  return join(dirname(model), `${name}.certify.json`);
}

function datasetOf(metadata: Record<string, unknown>, shape: readonly number[], model: string): DatasetName {
  const stated = metadata.dataset;
  if (typeof stated === 'string' && (DATASETS as readonly string[]).includes(stated)) return stated as DatasetName;
  const key = shape.join(',');
  if (key === '28,28,1') return 'mnist';
  if (key === '32,32,3') return 'cifar10';
  throw new LipschitzError(
    'INVALID_ARGUMENT',
    `${model} takes inputs [${shape.join(', ')}], which is none of the datasets (${DATASETS.join(', ')}); pass --dataset.`,
  );
}

/**
 * `robustness certify --model FILE.json`: certifies an exported `lipschitz-model/1` file (a zoo model,
 * a file from another tool) exactly as a run directory is certified — the same options, rule, bound and
 * output — through `certifyExportedModel` (the file is validated by the one validator of
 * `@lipschitz/model-format`; its stated bound is recomputed, not trusted). Writes `FILE.certify.json`
 * beside the file, or `--out`; refuses to overwrite an existing output without `--force`.
 */
export async function certifyModelFileCommand(options: CertifyModelFileOptions): Promise<CertifyFile> {
  const started = performance.now();
  const { model, testLimit, backend, force = false, quiet = false } = options;
  const out = options.out ?? certifyOutputOf(model);
  if (!existsSync(model)) throw new LipschitzError('NOT_FOUND', `${model} does not exist. Pass a lipschitz-model/1 file written by robustness export.`);
  if (existsSync(out) && !force) {
    throw new LipschitzError('ALREADY_EXISTS', `${out} already exists; pass --force to overwrite it, or choose another --out.`);
  }
  const text = await readFile(model, 'utf8');
  const validated = validateExportedModel(text);
  const dataset = options.dataset ?? datasetOf(validated.metadata, validated.input.shape, model);
  const { defaultEpsilons } = await import('../experiment');
  const epsilons = options.epsilons ?? defaultEpsilons(dataset);
  await prepareCliBackend(backend);
  const data = await loadDataset({ dataset, dataDir: options.dataDir }, { train: false });
  const { images, labels, count } = testTensors(data.test, testLimit);
  const forward = exportedForward(validated, 'certify');
  try {
    const report = await certifyExportedModel(validated.file, images, labels, { epsilons: epsilons.map((e) => e.value), batchSize: 500, singularValues: true });
    const maxEps = dataset === 'cifar10' ? 0.5 : 3;
    const parts = await certifyFile(report, forward.predict, images, count, epsilons, maxEps);
    const file: CertifyFile = { ...parts, checkpoint: 'exported', model: resolve(model), seconds: (performance.now() - started) / 1000 };
    await writeJsonAtomic(out, file);
    if (!quiet) {
      printSummary(file, epsilons, count);
      process.stdout.write(`wrote ${resolve(out)}\n`);
    }
    return file;
  } finally {
    forward.dispose();
    tf.dispose([images, labels]);
  }
}
