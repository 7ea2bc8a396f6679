import { existsSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { LipschitzError } from '@lipschitz/core';
import type { Sequential } from '@lipschitz/layers';
import { RUN_DIRECTORY_FILES, type RunStore, openRunDirectory, restoreCheckpoint } from '@lipschitz/train';
import { prepareCliBackend } from '@lipschitz/app-kit';
import type { BackendName } from '@lipschitz/backends';
import type * as tf from '@tensorflow/tfjs-core';
import { type ExperimentConfig, buildModel, loadDataset } from './experiment';
import { testTensors } from './test-set';

/** The files the commands of this CLI write into a run directory, beside those of `@lipschitz/train`. */
export const RUN_OUTPUT_FILES: readonly string[] = ['spectra-init.json', 'certify.json', 'attack-pgd.json', 'attack-fgsm.json', 'attack-boundary.json', 'attack-pointwise.json', 'report.html'];

/**
 * Where a file written by `export` would land among a run's own files: the run directory (the `--run` one, or
 * any folder above `file` that holds a `config.json`) and the reserved name, or `null` when `file` is free.
 */
export function reservedRunFile(file: string, run?: string): { run: string; name: string } | null {
  const target = resolve(file);
  const runDir = run === undefined ? undefined : resolve(run);
  for (let dir = dirname(target); ; dir = dirname(dir)) {
    if (dir === runDir || existsSync(join(dir, 'config.json'))) {
      const name = relative(dir, target).split(sep)[0];
      if ([...RUN_DIRECTORY_FILES, ...RUN_OUTPUT_FILES].includes(name)) return { run: dir, name };
    }
    if (dirname(dir) === dir) return null;
  }
}

/**
 * Refuses to write `file` when it would replace a run's own file (never, even with `force`), an existing
 * directory, or an existing file without `force`. `option` names the flag in the messages.
 */
export function assertWritableOutput(file: string, { force, run, option }: { force: boolean; run?: string; option: string }): void {
  const reserved = reservedRunFile(file, run);
  if (reserved) {
    throw new LipschitzError(
      'INVALID_ARGUMENT',
      `${option} ${file} is ${reserved.name} of the run ${reserved.run}; writing it would break the run, even with --force. Choose a file outside the run's own files, e.g. ${join(reserved.run, 'model.json')}.`,
    );
  }
  if (existsSync(file) && statSync(file).isDirectory()) {
    throw new LipschitzError('INVALID_ARGUMENT', `${option} ${file} is a directory; name a file, e.g. ${join(file, 'model.json')}.`);
  }
  if (existsSync(file) && !force) {
    throw new LipschitzError('ALREADY_EXISTS', `${option} ${file} already exists; pass --force to replace it, or choose another ${option}.`);
  }
}

/**
 * The checkpoints of a run that `certify`, `attack` and `export` can open (`--checkpoint`): `best`, the epoch with the
 * best test accuracy (the reference's selection, reference-bcop.md §8: it looks at the test set), and `latest`, the
 * end of training (of a finished run: its last epoch, evaluated in `summary.json`'s `last`; no test-set selection).
 */
export const RUN_CHECKPOINTS = ['best', 'latest'] as const;
export type RunCheckpoint = (typeof RUN_CHECKPOINTS)[number];

/** A finished (or interrupted) training run, opened for certification, attacks, export or a report. */
export interface OpenedRun {
  dir: string;
  store: RunStore;
  config: ExperimentConfig;
  model: Sequential;
  /** Which checkpoint the model holds. */
  checkpoint: RunCheckpoint;
  /** The training step at which that checkpoint was saved (`summary.json`'s `best.step` / `last.step`); null if unrecorded. */
  step: number | null;
}

/**
 * Opens `DIR`, rebuilds the model from `config.json` and loads a checkpoint: by default (and for `best`) the best one
 * (the reference keeps the checkpoint with the best test accuracy), or the latest when no evaluation ran; for `latest`,
 * the latest one (the end of training).
 * @throws LipschitzError `NOT_FOUND` when the run has no such checkpoint.
 */
export async function openRun(dir: string, which: RunCheckpoint = 'best'): Promise<OpenedRun> {
  if (!existsSync(dir)) {
    throw new LipschitzError('NOT_FOUND', `run directory ${dir} does not exist. Train one first: robustness train --out ${dir}`);
  }
  if (!existsSync(join(dir, 'config.json'))) {
    throw new LipschitzError('NOT_FOUND', `${dir} is not a run directory (no config.json). Pass the --out directory of robustness train.`);
  }
  const store = await openRunDirectory(dir);
  const stored = await store.readConfig();
  const config = stored?.experiment as ExperimentConfig | undefined;
  if (!config || typeof config !== 'object' || typeof config.model !== 'string') {
    throw new LipschitzError('CORRUPT_DATA', `${join(dir, 'config.json')} has no "experiment" section; was it written by robustness train?`);
  }
  let checkpoint: RunCheckpoint = which;
  let saved = await store.loadCheckpoint(which);
  if (!saved && which === 'best') {
    checkpoint = 'latest';
    saved = await store.loadCheckpoint('latest');
  }
  if (!saved) throw new LipschitzError('NOT_FOUND', `${dir} has no checkpoint yet; let robustness train finish an epoch.`);
  const model = buildModel(config);
  try {
    await restoreCheckpoint(model, null, saved);
  } catch (error) {
    model.dispose();
    throw error;
  }
  const step = typeof saved.manifest.meta.step === 'number' ? saved.manifest.meta.step : null;
  return { dir, store, config, model, checkpoint, step };
}

/** The first test images of a run's dataset, as tensors (disposed by {@link withRunOnTestSet}). */
export interface RunTestSet {
  images: tf.Tensor4D;
  labels: tf.Tensor1D;
  count: number;
  /** Size of the run's own test set (its `--test-limit`, else the whole test set): what `train` evaluated. */
  runCount: number;
}

/** Which test images and which checkpoint {@link withRunOnTestSet} opens. */
export interface RunTestSetOptions {
  /** The first N test images (an explicit `--test-limit`). */
  testLimit?: number;
  /**
   * Without `testLimit`: the first min(standardCount, the run's test set) images, the command's standard evaluation
   * (`attack`: 1,000 for PGD and FGSM, 100 for the decision attacks). Without either: the run's own test set (its
   * `--test-limit`, else all), what `train` evaluated.
   */
  standardCount?: number;
  /** Default `best`. */
  checkpoint?: RunCheckpoint;
}

/**
 * Prepares the backend, opens the run (`checkpoint`, default the best; kernels frozen) and its first test images
 * ({@link RunTestSetOptions}), runs `body`, and disposes the model and the tensors whatever happens. The shared
 * scaffold of `certify` and `attack`.
 */
export async function withRunOnTestSet<T>(
  dir: string,
  backend: BackendName,
  { testLimit, standardCount, checkpoint = 'best' }: RunTestSetOptions,
  body: (opened: OpenedRun, test: RunTestSet) => Promise<T>,
): Promise<T> {
  await prepareCliBackend(backend);
  const opened = await openRun(dir, checkpoint);
  try {
    const data = await loadDataset(opened.config, { train: false });
    const runCount = Math.min(opened.config.testLimit ?? data.test.count, data.test.count);
    const test = testTensors(data.test, testLimit ?? Math.min(standardCount ?? runCount, runCount));
    try {
      opened.model.freeze();
      return await body(opened, { ...test, runCount });
    } finally {
      test.images.dispose();
      test.labels.dispose();
    }
  } finally {
    opened.model.dispose();
  }
}
