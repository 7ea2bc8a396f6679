import { join } from 'node:path';
import { ProgressBar, writeJsonAtomic } from '@lipschitz/app-kit';
import type { BackendName } from '@lipschitz/backends';
import { type AttackResult, type DecisionAttackResult, boundaryAttack, certifyModel, fgsmAttack, pgdAttack, pointwiseAttack } from '@lipschitz/certify';
import { LipschitzError } from '@lipschitz/core';
import { type AttackName, BOUNDARY_DEFAULT_ITERATIONS, STANDARD_ATTACK_IMAGES, STANDARD_DECISION_ATTACK_IMAGES, assertNewEvaluation, attackFileName, isDecisionAttack } from '../evaluations';
import { DECISION_ATTACK_PART_IMAGES, type DecisionAttackPart, attackInParts, progressPathOf, removeProgress } from '../decision-attack-progress';
import { inputShapeOf } from '../experiment';
import { type RunCheckpoint, withRunOnTestSet } from '../run';

export interface AttackCommandOptions {
  run: string;
  attack: AttackName;
  epsilon: { text: string; value: number };
  /** PGD steps (ignored by the other attacks). */
  steps: number;
  /** PGD random restarts (ignored by the other attacks). */
  restarts: number;
  /** Boundary: iterations (default {@link BOUNDARY_DEFAULT_ITERATIONS}, foolbox 2.x's). */
  iterations?: number;
  /** Pointwise: cap on the queries per image (default: none, as foolbox 2.x). */
  maxQueries?: number;
  /**
   * Attack the first N test images. Default: the standard evaluation's, the first {@link STANDARD_ATTACK_IMAGES} of the
   * run's test set for PGD and FGSM and the first {@link STANDARD_DECISION_ATTACK_IMAGES} for Boundary and Pointwise
   * (the reference's choice), fewer when the run's test set is smaller.
   */
  testLimit?: number;
  /** Boundary / Pointwise: images per checkpointed part (default {@link DECISION_ATTACK_PART_IMAGES}); the result does not depend on it. */
  partImages?: number;
  backend: BackendName;
  /** Replace an evaluation with the same settings (default: refuse). */
  force?: boolean;
  quiet?: boolean;
  /** The checkpoint to attack (default `best`; `latest` writes `attack-<name>[-<settings>]-latest.json`). */
  checkpoint?: RunCheckpoint;
}

/** The file `robustness attack` writes: DIR/attack-<name>.json for the standard settings, else a name with the settings (`attackFileName`). */
export interface AttackFile {
  attack: AttackName;
  epsilon: number;
  steps: number;
  restarts: number;
  /** Boundary only: the iteration budget. */
  iterations?: number;
  /** Pointwise only: the cap on queries per image, or `null` for none (foolbox's default). */
  maxQueries?: number | null;
  /** Number of test images attacked: the first `count` of the test set. */
  count: number;
  /** Which checkpoint was attacked. */
  checkpoint?: string;
  /** The training step of that checkpoint (`summary.json`'s `best.step` or `last.step`). */
  step?: number | null;
  clean: number;
  robustAccuracy: number;
  certified: number;
  /** Certified examples the attack broke: a sound certificate makes this 0. */
  brokenCertified: number;
  brokenCertifiedIndices: number[];
  /**
   * Decision attacks only: the median, over the correctly classified attacked images, of the ℓ2 norm of the closest
   * misclassified point found (an image where none was found counts as +∞; `null` when the median is +∞). Each found
   * norm is an upper bound on that image's minimal adversarial distance, so this is an upper bound on the median
   * minimal adversarial distance.
   */
  medianPerturbation?: number | null;
  /** Decision attacks only: correctly classified images for which a misclassified point was found (at any distance). */
  perturbationsFound?: number;
  /** Decision attacks only: the correctly classified images attacked (the population of the median). */
  attackedCorrect?: number;
  /** Decision attacks only: mean model queries per attacked image. */
  meanQueries?: number;
  /** Wall seconds, summed over the invocations of a decision attack resumed from its progress file. */
  seconds: number;
}

/**
 * The median ‖δ‖₂ of a decision attack's result over the images it attacked (those classified correctly: a
 * misclassified image has norm 0 and is left out), an image without a misclassified point counting as +∞; the mean of
 * the two middle values for an even count. Returns `null` for a median of +∞ or no correctly classified image.
 */
export function medianPerturbation(result: Pick<AttackResult, 'perturbationNorms'>): { median: number | null; found: number; attacked: number } {
  const norms: number[] = [];
  for (const n of result.perturbationNorms) {
    if (n === 0) continue; // misclassified without any perturbation: not attacked
    norms.push(Number.isNaN(n) ? Number.POSITIVE_INFINITY : n);
  }
  const found = norms.filter(Number.isFinite).length;
  if (norms.length === 0) return { median: null, found, attacked: 0 };
  norms.sort((a, b) => a - b);
  const mid = norms.length >> 1;
  const median = norms.length % 2 === 1 ? norms[mid] : (norms[mid - 1] + norms[mid]) / 2;
  return { median: Number.isFinite(median) ? median : null, found, attacked: norms.length };
}

/**
 * Throws when an attack broke a certified example: a sound certificate makes that impossible, so it is a bug to report.
 * @throws LipschitzError `NUMERICAL_ERROR` naming the attack and the first indices.
 */
function assertNoBrokenCertificate(attack: AttackName, result: AttackResult): void {
  if (result.brokenCertified > 0) {
    throw new LipschitzError(
      'NUMERICAL_ERROR',
      `BUG: the ${attack} attack broke ${result.brokenCertified} certified example(s) (indices ${result.brokenCertifiedIndices.slice(0, 10).join(', ')}); the certificate is unsound. Please report this.`,
    );
  }
}

/**
 * `robustness attack --run DIR --attack pgd|fgsm|boundary|pointwise --eps X` on the best checkpoint (or the latest:
 * `checkpoint`) with cached kernels: the reference's L2 PGD (CW margin loss, 200 steps of 0.01 along the normalized
 * gradient, projection, uniform random start), FGSM, or the decision-based Boundary (Brendel et al. 2018) and Pointwise
 * (Schott et al. 2019) attacks of `@lipschitz/certify` with foolbox 2.x's default budgets (Boundary: 5000 iterations of
 * 25 candidates; Pointwise: 10 salt-and-pepper repetitions, 10 bisection steps, no query cap), which the reference runs
 * on the first 100 test images. The decision attacks also report the median ℓ2 perturbation they found; they run in
 * parts of {@link DECISION_ATTACK_PART_IMAGES} images, checkpointed in `DIR/attack-<name>.json.progress` after each
 * part, and the same command resumes an interrupted attack from there (also with `--force`, which replaces a finished
 * file and discards only a progress file of other settings). Fails (non-zero exit) if any certified example is broken,
 * after writing the file.
 */
export async function attackCommand(options: AttackCommandOptions): Promise<AttackFile> {
  const { run, attack, epsilon, steps, restarts, backend, force = false, quiet = false, checkpoint: which = 'best' } = options;
  const decision = isDecisionAttack(attack);
  const standardCount = decision ? STANDARD_DECISION_ATTACK_IMAGES : STANDARD_ATTACK_IMAGES;
  const iterations = attack === 'boundary' ? (options.iterations ?? BOUNDARY_DEFAULT_ITERATIONS) : undefined;
  const maxQueries = attack === 'pointwise' ? options.maxQueries : undefined;
  const started = performance.now();
  const testSet = { testLimit: options.testLimit, standardCount, checkpoint: which };
  return withRunOnTestSet(run, backend, testSet, async ({ model, config, checkpoint, step }, { images, labels, count, runCount }) => {
    const settings = {
      attack,
      epsilon: epsilon.text,
      steps: attack === 'pgd' ? steps : 1,
      restarts: attack === 'pgd' ? restarts : 0,
      count,
      ...(iterations !== undefined ? { iterations } : {}),
      ...(maxQueries !== undefined ? { maxQueries } : {}),
      checkpoint: which,
    };
    const path = join(run, attackFileName(config.dataset, runCount, settings));
    assertNewEvaluation('attack', path, force);
    const progressPath = progressPathOf(path);
    let earlierSeconds = 0;
    const certificate = await certifyModel(model, images, labels, {
      epsilons: [epsilon.value],
      inputShape: inputShapeOf(config.dataset),
      batchSize: 500,
    });
    const predict = (x: Parameters<typeof model.apply>[0]) => model.apply(x);
    const certifiedRadii = certificate.examples.radii;
    let result: AttackResult | DecisionAttackResult;
    if (attack === 'pgd') result = await pgdAttack(predict, images, labels, { epsilon: epsilon.value, steps, restarts, batchSize: 100, certifiedRadii });
    else if (attack === 'fgsm') result = await fgsmAttack(predict, images, labels, { epsilon: epsilon.value, batchSize: 100, certifiedRadii });
    else {
      const bar = quiet ? null : new ProgressBar(attack, count);
      const onProgress = (finished: number, total: number) => bar?.update(finished, `images done (ε=${epsilon.text})`, total);
      const attackPart: DecisionAttackPart = (partImages, partLabels, radii, imageOffset, partProgress) =>
        attack === 'boundary'
          ? boundaryAttack(predict, partImages, partLabels, { epsilon: epsilon.value, iterations, certifiedRadii: radii, imageOffset, onProgress: partProgress })
          : pointwiseAttack(predict, partImages, partLabels, {
              epsilon: epsilon.value,
              ...(maxQueries !== undefined ? { maxQueries } : {}),
              certifiedRadii: radii,
              imageOffset,
              onProgress: partProgress,
            });
      try {
        const parts = await attackInParts({
          progressPath,
          settings: { attack, epsilon: epsilon.value, iterations, maxQueries: attack === 'pointwise' ? (maxQueries ?? null) : undefined, count, checkpoint, seed: 0 },
          force,
          images,
          labels,
          certifiedRadii,
          partImages: options.partImages,
          attackPart,
          onProgress,
        });
        result = parts.result;
        earlierSeconds = parts.earlierSeconds;
      } finally {
        bar?.stop();
      }
    }
    const median = decision ? medianPerturbation(result) : null;
    const queries = 'queries' in result ? result.queries : null;
    const file: AttackFile = {
      attack,
      epsilon: epsilon.value,
      steps: settings.steps,
      restarts: settings.restarts,
      ...(iterations !== undefined ? { iterations } : {}),
      ...(attack === 'pointwise' ? { maxQueries: maxQueries ?? null } : {}),
      count,
      checkpoint,
      step,
      clean: certificate.clean,
      robustAccuracy: result.robustAccuracy,
      certified: certificate.certified[String(epsilon.value)],
      brokenCertified: result.brokenCertified,
      brokenCertifiedIndices: result.brokenCertifiedIndices,
      ...(median
        ? {
            medianPerturbation: median.median,
            perturbationsFound: median.found,
            attackedCorrect: median.attacked,
            meanQueries: queries && queries.length > 0 ? queries.reduce((s, q) => s + q, 0) / queries.length : 0,
          }
        : {}),
      seconds: earlierSeconds + (performance.now() - started) / 1000,
    };
    await writeJsonAtomic(path, file);
    if (decision) removeProgress(progressPath);
    if (!quiet) {
      const medianText = median ? `, median ‖δ‖₂ ${median.median === null ? '∞ (found for fewer than half)' : median.median.toFixed(4)} (found ${median.found}/${median.attacked})` : '';
      process.stdout.write(
        `${attack.toUpperCase()} ε=${epsilon.text}: robust accuracy ${(100 * result.robustAccuracy).toFixed(2)}% ` +
          `(clean ${(100 * certificate.clean).toFixed(2)}%, certified ${(100 * file.certified).toFixed(2)}%, ${count} images)${medianText}, certified broken: ${result.brokenCertified} → ${path}\n`,
      );
    }
    assertNoBrokenCertificate(attack, result);
    return file;
  });
}
