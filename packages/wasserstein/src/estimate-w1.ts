import { LipschitzError, type LipschitzModule, SeededRandom, assertPositiveInteger } from '@lipschitz/core';
import { type OptimizerSpec, REFERENCE_LR_GAMMA, createOptimizer } from '@lipschitz/train';
import * as tf from '@tensorflow/tfjs-core';
import { criticGapOnSamples } from './critic-gap';
import type { Sampler } from './sampler';

/** Options of {@link estimateW1}. */
export interface EstimateW1Options {
  /** A critic whose Lipschitz constant is (close to) 1: BCOP/RKO/OSSN convs, Björck dense, MaxMin. */
  critic: LipschitzModule;
  /** Samples of the first distribution P (e.g. real data). */
  p: Sampler;
  /** Samples of the second distribution Q (e.g. generated data). */
  q: Sampler;
  /** Input shape without the batch axis (for the critic's sound Lipschitz bound). */
  inputShape: readonly number[];
  /** Optimizer steps. */
  steps: number;
  /** Samples of each distribution per step (reference: 64). */
  batchSize?: number;
  /** Default RMSprop with PyTorch defaults at lr 1e-4 (the reference's MaxMin setting). */
  optimizer?: OptimizerSpec;
  /** The learning rate decays by `gamma` every `stepsPerEpoch` steps (reference: 0.96235062639 per 100 steps). */
  gamma?: number;
  stepsPerEpoch?: number;
  /** Held-out evaluation: fresh samplers (default: `p` and `q`) and the number of pairs (reference 6,400). */
  evaluation?: { p?: Sampler; q?: Sampler; pairs?: number };
  seed?: number;
  /** Called every `reportEvery` steps with the current objective `mean f(P) − mean f(Q)` on the batch. */
  onProgress?: (event: { step: number; steps: number; objective: number; lr: number }) => void;
  reportEvery?: number;
}

/** Result of {@link estimateW1}. */
export interface EstimateW1Result {
  /** The held-out estimate divided by max(1, L): a lower bound on W1(P, Q) up to sampling error. */
  estimate: number;
  /** `mean f(P) − mean f(Q)` on the held-out samples before the division. */
  rawEstimate: number;
  /** The critic's sound ℓ2 Lipschitz bound L (exact per-layer norms, float64). */
  lipschitzUpperBound: number;
  /** The training objective every `reportEvery` steps. */
  history: { step: number; objective: number }[];
  steps: number;
  elapsedMs: number;
}

/**
 * Estimates the Wasserstein-1 distance through the Kantorovich–Rubinstein dual
 * `W1(P, Q) = sup_{‖f‖_L ≤ 1} E_P[f] − E_Q[f]`: trains the critic to maximise `mean f(P) − mean f(Q)` on
 * batches (the reference's objective `loss = mean f(Q) − mean f(P)`, minimised with RMSprop and the same
 * exponential schedule), then evaluates the gap on fresh held-out samples with frozen kernels and divides by
 * the critic's sound bound when it exceeds 1 — so the result stays a lower bound on W1 (Li et al., NeurIPS
 * 2019, §5.2; reference-bcop.md §10).
 *
 * Ownership: the critic is borrowed and trained in place.
 * @throws LipschitzError `INVALID_ARGUMENT` on bad counts, `NUMERICAL_ERROR` when the objective is NaN.
 */
export async function estimateW1(options: EstimateW1Options): Promise<EstimateW1Result> {
  const fn = 'estimateW1';
  const { critic, p, q, inputShape, steps, batchSize = 64, gamma = REFERENCE_LR_GAMMA, stepsPerEpoch = 100, seed = 0, reportEvery = 10 } = options;
  assertPositiveInteger(fn, 'steps', steps);
  assertPositiveInteger(fn, 'batchSize', batchSize);
  assertPositiveInteger(fn, 'stepsPerEpoch', stepsPerEpoch);
  assertPositiveInteger(fn, 'reportEvery', reportEvery);
  const spec: OptimizerSpec = options.optimizer ?? { kind: 'rmsprop', learningRate: 1e-4 };
  const optimizer = createOptimizer(spec);
  const initialLr = optimizer.learningRate;
  const rng = new SeededRandom(seed);
  const history: { step: number; objective: number }[] = [];
  const started = performance.now();
  critic.unfreeze();
  try {
    for (let step = 1; step <= steps; step++) {
      const epoch = Math.floor((step - 1) / stepsPerEpoch) + 1;
      optimizer.learningRate = initialLr * gamma ** epoch;
      const xp = p(batchSize, rng);
      const xq = q(batchSize, rng);
      const loss = optimizer.minimize(
        () => tf.sub(tf.mean(critic.apply(xq)), tf.mean(critic.apply(xp))) as tf.Scalar,
        step % reportEvery === 0 || step === steps,
        critic.trainableVariables,
      );
      xp.dispose();
      xq.dispose();
      await critic.afterStep?.(step);
      if (loss) {
        const objective = -(await loss.data())[0];
        loss.dispose();
        if (!Number.isFinite(objective)) {
          throw new LipschitzError('NUMERICAL_ERROR', `${fn}: the objective became ${objective} at step ${step}; lower the learning rate.`);
        }
        history.push({ step, objective });
        options.onProgress?.({ step, steps, objective, lr: optimizer.learningRate });
      }
    }
  } finally {
    optimizer.dispose();
  }
  const rawEstimate = await criticGapOnSamples(critic, options.evaluation?.p ?? p, options.evaluation?.q ?? q, {
    pairs: options.evaluation?.pairs ?? 6400,
    batchSize,
    seed: seed + 1,
  });
  const lipschitzUpperBound = await critic.lipschitzUpperBound(inputShape);
  return {
    estimate: rawEstimate / Math.max(1, lipschitzUpperBound),
    rawEstimate,
    lipschitzUpperBound,
    history,
    steps,
    elapsedMs: performance.now() - started,
  };
}
