import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LipschitzError } from '@lipschitz/core';
import type { Sequential } from '@lipschitz/layers';
import { type RunStore, openRunDirectory, restoreCheckpoint } from '@lipschitz/train';
import { type ExperimentConfig, buildModel } from './experiment';

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
