import { join } from 'node:path';
import { writeJsonAtomic } from '@lipschitz/app-kit';
import type { BackendName } from '@lipschitz/backends';
import { certifyModel, fgsmAttack, pgdAttack } from '@lipschitz/certify';
import { LipschitzError } from '@lipschitz/core';
import { assertNewEvaluation, attackFileName } from '../evaluations';
import { inputShapeOf } from '../experiment';
import { withRunOnTestSet } from '../run';

export interface AttackCommandOptions {
  run: string;
  attack: 'pgd' | 'fgsm';
  epsilon: { text: string; value: number };
  steps: number;
  restarts: number;
  testLimit?: number;
  backend: BackendName;
  /** Replace an evaluation with the same settings (default: refuse). */
  force?: boolean;
  quiet?: boolean;
}

/** The file `robustness attack` writes: DIR/attack-<name>.json for the standard settings, else a name with the settings (`attackFileName`). */
export interface AttackFile {
  attack: 'pgd' | 'fgsm';
  epsilon: number;
  steps: number;
  restarts: number;
  /** Number of test images attacked: the first `count` of the test set. */
  count: number;
  /** Which checkpoint was attacked. */
  checkpoint?: string;
  clean: number;
  robustAccuracy: number;
  certified: number;
  /** Certified examples the attack broke: a sound certificate makes this 0. */
  brokenCertified: number;
  brokenCertifiedIndices: number[];
  seconds: number;
}

/**
 * `robustness attack --run DIR --attack pgd|fgsm --eps X`: the reference's L2 PGD (CW margin loss, 200 steps
 * of 0.01 along the normalized gradient, projection, uniform random start) or FGSM, on the best checkpoint
 * with cached kernels. Fails (non-zero exit) if any certified example is broken.
 */
export async function attackCommand(options: AttackCommandOptions): Promise<AttackFile> {
  const { run, attack, epsilon, steps, restarts, testLimit, backend, force = false, quiet = false } = options;
  const started = performance.now();
  return withRunOnTestSet(run, backend, testLimit, async ({ model, config, checkpoint }, { images, labels, count, runCount }) => {
    const settings = { attack, epsilon: epsilon.text, steps: attack === 'pgd' ? steps : 1, restarts: attack === 'pgd' ? restarts : 0, count };
    const path = join(run, attackFileName(config.dataset, runCount, settings));
    assertNewEvaluation('attack', path, force);
    const certificate = await certifyModel(model, images, labels, {
      epsilons: [epsilon.value],
      inputShape: inputShapeOf(config.dataset),
      batchSize: 500,
    });
    const predict = (x: Parameters<typeof model.apply>[0]) => model.apply(x);
    const result =
      attack === 'pgd'
        ? await pgdAttack(predict, images, labels, { epsilon: epsilon.value, steps, restarts, batchSize: 100, certifiedRadii: certificate.examples.radii })
        : await fgsmAttack(predict, images, labels, { epsilon: epsilon.value, batchSize: 100, certifiedRadii: certificate.examples.radii });
    const file: AttackFile = {
      attack,
      epsilon: epsilon.value,
      steps: attack === 'pgd' ? steps : 1,
      restarts: attack === 'pgd' ? restarts : 0,
      count,
      checkpoint,
      clean: certificate.clean,
      robustAccuracy: result.robustAccuracy,
      certified: certificate.certified[String(epsilon.value)],
      brokenCertified: result.brokenCertified,
      brokenCertifiedIndices: result.brokenCertifiedIndices,
      seconds: (performance.now() - started) / 1000,
    };
    await writeJsonAtomic(path, file);
    if (!quiet) {
      process.stdout.write(
        `${attack.toUpperCase()} ε=${epsilon.text}: robust accuracy ${(100 * result.robustAccuracy).toFixed(2)}% ` +
          `(clean ${(100 * certificate.clean).toFixed(2)}%, certified ${(100 * file.certified).toFixed(2)}%, ${count} images), certified broken: ${result.brokenCertified} → ${path}\n`,
      );
    }
    if (result.brokenCertified > 0) {
      throw new LipschitzError(
        'NUMERICAL_ERROR',
        `BUG: the ${attack} attack broke ${result.brokenCertified} certified example(s) (indices ${result.brokenCertifiedIndices.slice(0, 10).join(', ')}); the certificate is unsound. Please report this.`,
      );
    }
    return file;
  });
}
