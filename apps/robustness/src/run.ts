import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LipschitzError } from '@lipschitz/core';
import type { Sequential } from '@lipschitz/layers';
import { type RunStore, openRunDirectory, restoreCheckpoint } from '@lipschitz/train';
import { prepareCliBackend } from '@lipschitz/app-kit';
import type { BackendName } from '@lipschitz/backends';
import type * as tf from '@tensorflow/tfjs-core';
import { type ExperimentConfig, buildModel, loadDataset } from './experiment';
import { testTensors } from './test-set';

/** A finished (or interrupted) training run, opened for certification, attacks, export or a report. */
export interface OpenedRun {
  dir: string;
  store: RunStore;
  config: ExperimentConfig;
  model: Sequential;
  /** Which checkpoint the model holds. */
  checkpoint: 'best' | 'latest';
}

/**
 * Opens `DIR`, rebuilds the model from `config.json` and loads the best checkpoint (the reference keeps
 * the checkpoint with the best test accuracy), or the latest when no evaluation ran.
 */
export async function openRun(dir: string): Promise<OpenedRun> {
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
  let checkpoint: 'best' | 'latest' = 'best';
  let saved = await store.loadCheckpoint('best');
  if (!saved) {
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
  return { dir, store, config, model, checkpoint };
}

/** The first test images of a run's dataset, as tensors (disposed by {@link withRunOnTestSet}). */
export interface RunTestSet {
  images: tf.Tensor4D;
  labels: tf.Tensor1D;
  count: number;
  /** Size of the run's own test set (its `--test-limit`, else the whole test set): what `train` evaluated. */
  runCount: number;
}

/**
 * Prepares the backend, opens the run (best checkpoint, kernels frozen) and its first `testLimit` test
 * images, runs `body`, and disposes the model and the tensors whatever happens. The shared scaffold of
 * `certify` and `attack`.
 */
export async function withRunOnTestSet<T>(
  dir: string,
  backend: BackendName,
  testLimit: number | undefined,
  body: (opened: OpenedRun, test: RunTestSet) => Promise<T>,
): Promise<T> {
  await prepareCliBackend(backend);
  const opened = await openRun(dir);
  try {
    const data = await loadDataset(opened.config);
    const test = testTensors(data.test, testLimit);
    const runCount = Math.min(opened.config.testLimit ?? data.test.count, data.test.count);
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
