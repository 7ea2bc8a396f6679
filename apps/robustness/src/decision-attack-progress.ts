import { existsSync, rmSync } from 'node:fs';
import { readJson, writeJsonAtomic } from '@lipschitz/app-kit';
import type { DecisionAttackResult } from '@lipschitz/certify';
import { LipschitzError } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Images per part of a checkpointed decision attack: after each part `robustness attack` writes what it has, so an
 * interrupted run loses at most one part (about 35 min of a full-budget Boundary run on the Large network, ~6 min on
 * Small). The result does not depend on it (each image draws its own random stream, `imageOffset`); 10 images of 25
 * Boundary candidates make forward passes of 250 images.
 */
export const DECISION_ATTACK_PART_IMAGES = 10;

/** What a progress file must match to be resumed: the attack and everything that changes its result. */
export interface DecisionAttackProgressSettings {
  attack: 'boundary' | 'pointwise';
  epsilon: number;
  iterations?: number;
  maxQueries?: number | null;
  /** Images attacked in all (the first `count` of the run's test set). */
  count: number;
  /** The checkpoint attacked: a run trained further since is a different model. */
  checkpoint?: string;
  /** The attack's seed (the CLI always uses 0). */
  seed: number;
}

/**
 * `DIR/attack-<name>.json.progress`: the images of a decision attack finished so far, written atomically after each
 * part and removed once the attack's file is written. Per-image arrays hold the first `done` images; a norm of `null`
 * means no misclassified point was found.
 */
export interface DecisionAttackProgress {
  format: 'lipschitz-attack-progress/1';
  settings: DecisionAttackProgressSettings;
  done: number;
  broken: number[];
  perturbationNorms: (number | null)[];
  queries: number[];
  brokenCertifiedIndices: number[];
  /** Seconds spent by the earlier, interrupted invocations. */
  seconds: number;
}

/** One part of the attack: images `[offset, offset + m)`, with their radii, attacked with `imageOffset: offset`. */
export type DecisionAttackPart = (
  images: tf.Tensor,
  labels: tf.Tensor,
  certifiedRadii: Float64Array,
  imageOffset: number,
  onProgress: (finished: number, total: number) => void,
) => Promise<DecisionAttackResult>;

/** The progress file beside an attack's result file. */
export function progressPathOf(resultPath: string): string {
  return `${resultPath}.progress`;
}

function sameSettings(a: DecisionAttackProgressSettings, b: DecisionAttackProgressSettings): boolean {
  const keys = ['attack', 'epsilon', 'iterations', 'maxQueries', 'count', 'checkpoint', 'seed'] as const;
  return keys.every((k) => (a[k] ?? null) === (b[k] ?? null));
}

async function readProgress(path: string, settings: DecisionAttackProgressSettings): Promise<DecisionAttackProgress> {
  let p: DecisionAttackProgress;
  try {
    p = await readJson<DecisionAttackProgress>(path, 'attack progress file');
  } catch (cause) {
    throw new LipschitzError('CORRUPT_DATA', `${(cause as Error).message} Delete it or pass --force to start the attack again.`, { cause });
  }
  const arrays = p && [p.broken, p.perturbationNorms, p.queries];
  const whole =
    p !== null &&
    typeof p === 'object' &&
    p.format === 'lipschitz-attack-progress/1' &&
    Number.isInteger(p.done) &&
    p.done >= 0 &&
    p.done <= settings.count &&
    typeof p.seconds === 'number' &&
    Array.isArray(p.brokenCertifiedIndices) &&
    (arrays as unknown[]).every((a) => Array.isArray(a) && a.length === p.done) &&
    p.broken.every((b) => b === 0 || b === 1) &&
    p.perturbationNorms.every((v) => v === null || (typeof v === 'number' && v >= 0)) &&
    p.queries.every((q) => Number.isInteger(q) && q >= 0) &&
    p.brokenCertifiedIndices.every((i) => Number.isInteger(i) && i >= 0 && i < p.done) &&
    typeof p.settings === 'object';
  if (!whole) {
    throw new LipschitzError('CORRUPT_DATA', `attack progress file ${path} is not a lipschitz-attack-progress/1 file of this attack; delete it or pass --force to start the attack again.`);
  }
  if (!sameSettings(p.settings, settings)) {
    throw new LipschitzError(
      'ALREADY_EXISTS',
      `${path} holds an unfinished attack with other settings (${JSON.stringify(p.settings)}; now ${JSON.stringify(settings)}); pass --force to discard it and start again.`,
    );
  }
  return p;
}

/**
 * Runs a decision attack over `images` in parts of `partImages`, writing a progress file after each part and
 * resuming from it when one with the same settings exists — also under `force`, since starting again would compute
 * the same thing (`robustness experiment` reruns an interrupted attack step with `--force`); a progress file of other
 * settings or a broken one is refused (`ALREADY_EXISTS` / `CORRUPT_DATA`), or discarded under `force`. That is the
 * checkpointing that lets a five-hour Boundary run span interrupted sessions. Each part is attacked with `imageOffset` set to its first index,
 * so the result is the one a single call would give (the same random draws; the model's forward passes see other
 * batch compositions). Returns the merged result over all images and the seconds the earlier invocations spent.
 * `images`, `labels` and `certifiedRadii` are borrowed; the progress file is removed by {@link removeProgress} once
 * the caller has written the result.
 */
export async function attackInParts(options: {
  progressPath: string;
  settings: DecisionAttackProgressSettings;
  force: boolean;
  images: tf.Tensor;
  labels: tf.Tensor;
  certifiedRadii: ArrayLike<number>;
  partImages?: number;
  attackPart: DecisionAttackPart;
  onProgress?: (finished: number, total: number) => void;
}): Promise<{ result: DecisionAttackResult; earlierSeconds: number }> {
  const { progressPath, settings, images, labels, certifiedRadii, attackPart, onProgress } = options;
  const partImages = options.partImages ?? DECISION_ATTACK_PART_IMAGES;
  const n = settings.count;
  if (images.shape[0] !== n) throw new LipschitzError('SHAPE_MISMATCH', `attackInParts: ${images.shape[0]} images for a count of ${n}.`);
  let progress: DecisionAttackProgress = { format: 'lipschitz-attack-progress/1', settings, done: 0, broken: [], perturbationNorms: [], queries: [], brokenCertifiedIndices: [], seconds: 0 };
  if (existsSync(progressPath)) {
    try {
      progress = await readProgress(progressPath, settings);
    } catch (error) {
      // A progress file of other settings or a broken one: refused, or discarded under --force. One of the same
      // settings is resumed even under --force: starting again would compute the same thing.
      if (!options.force) throw error;
      rmSync(progressPath);
    }
  }
  const earlierSeconds = progress.seconds;
  const started = performance.now();
  onProgress?.(progress.done, n);
  while (progress.done < n) {
    const offset = progress.done;
    const m = Math.min(partImages, n - offset);
    const partImagesTensor = tf.slice(images, offset, m);
    const partLabels = tf.slice(labels, offset, m);
    let part: DecisionAttackResult;
    try {
      const radii = Float64Array.from({ length: m }, (_, k) => certifiedRadii[offset + k]);
      part = await attackPart(partImagesTensor, partLabels, radii, offset, (finished) => onProgress?.(offset + finished, n));
    } finally {
      partImagesTensor.dispose();
      partLabels.dispose();
    }
    progress.broken.push(...part.broken);
    progress.perturbationNorms.push(...Array.from(part.perturbationNorms, (v) => (Number.isNaN(v) ? null : v)));
    progress.queries.push(...part.queries);
    progress.brokenCertifiedIndices.push(...part.brokenCertifiedIndices.map((i) => offset + i));
    progress.done += m;
    progress.seconds = earlierSeconds + (performance.now() - started) / 1000;
    if (progress.done < n) await writeJsonAtomic(progressPath, progress, 'attack');
  }
  const brokenCount = progress.broken.reduce((s, b) => s + b, 0);
  return {
    result: {
      robustAccuracy: n === 0 ? 0 : (n - brokenCount) / n,
      broken: Uint8Array.from(progress.broken),
      perturbationNorms: Float64Array.from(progress.perturbationNorms, (v) => (v === null ? Number.NaN : v)),
      brokenCertified: progress.brokenCertifiedIndices.length,
      brokenCertifiedIndices: progress.brokenCertifiedIndices,
      count: n,
      queries: Float64Array.from(progress.queries),
    },
    earlierSeconds,
  };
}

/** Removes an attack's progress file (after its result is written). */
export function removeProgress(progressPath: string): void {
  rmSync(progressPath, { force: true });
}
