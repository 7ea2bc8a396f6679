import { LipschitzError, SeededRandom, assertFiniteNumber, assertPositiveInteger, assertPositiveNumber } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';
import { checkImagesAndLabels, checkLabelValues, oneHotMask } from './inputs';

/** A classifier: NHWC (or `[N, F]`) images in, logits `[N, C]` out. Borrowed input, owned output. */
export type Predict = (x: tf.Tensor) => tf.Tensor;

/** Result of {@link pgdAttack} and {@link fgsmAttack}. */
export interface AttackResult {
  /** Fraction of examples neither misclassified clean nor broken by the attack, in [0, 1]. */
  robustAccuracy: number;
  /** 1 where the example is misclassified at a point within the ball (the clean point included). */
  broken: Uint8Array;
  /** ‖δ‖₂ of the misclassified point found (0 when the clean point is misclassified; NaN when not broken). */
  perturbationNorms: Float64Array;
  /**
   * The number of examples that were broken although their certified radius exceeds the norm of
   * the perturbation that broke them. A sound certificate makes this 0: anything else is a bug (or
   * a float32 effect larger than the certificate's slack) and must fail loudly. 0 when no radii
   * were given.
   */
  brokenCertified: number;
  /** Indices of those examples (empty when `brokenCertified` is 0). */
  brokenCertifiedIndices: number[];
  /** Number of examples. */
  count: number;
}

/** Settings shared by the gradient attacks. @internal */
export interface AttackSettings {
  epsilon: number;
  steps: number;
  stepSize: number;
  restarts: number;
  randomStart: boolean;
  seed: number;
  range: [number, number];
  batchSize: number;
  certifiedRadii?: ArrayLike<number>;
}

/** Success tolerance of the reference: an attack succeeds only with ‖δ‖ < ε + 1e-6. */
export const ATTACK_NORM_TOLERANCE = 1e-6;
/** Floor of the per-example gradient norm in the normalized step (reference: 1e-6). */
export const GRADIENT_NORM_FLOOR = 1e-6;
/** Offset κ of the Carlini–Wagner loss `−relu(z_y − max_{i≠y} z_i + κ)` (reference: 50). */
export const CW_CONFIDENCE = 50;
const OTHER_CLASS_MASK = 1e9;

/** Validates the options shared by the attacks. @internal */
export function checkAttackSettings(fn: string, s: AttackSettings, n: number): void {
  assertPositiveNumber(fn, 'epsilon', s.epsilon);
  assertPositiveInteger(fn, 'steps', s.steps);
  assertPositiveNumber(fn, 'stepSize', s.stepSize);
  if (!Number.isInteger(s.restarts) || s.restarts < 0) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: restarts must be a non-negative integer, got ${s.restarts}. Pass 0 for a single run.`);
  }
  if (!Number.isInteger(s.seed)) throw new LipschitzError('INVALID_ARGUMENT', `${fn}: seed must be an integer, got ${s.seed}.`);
  assertPositiveInteger(fn, 'batchSize', s.batchSize);
  checkRangeAndRadii(fn, s.range, s.certifiedRadii, n);
}

/** Validates an attack's input range `[lo, hi]` and its optional per-example certified radii (one per image). @internal */
export function checkRangeAndRadii(fn: string, range: unknown, certifiedRadii: ArrayLike<number> | undefined, n: number): void {
  if (!Array.isArray(range) || range.length !== 2) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: range must be [lo, hi], e.g. [0, 1].`);
  }
  assertFiniteNumber(fn, 'range[0]', range[0]);
  assertFiniteNumber(fn, 'range[1]', range[1]);
  if (!(range[0] < range[1])) throw new LipschitzError('INVALID_ARGUMENT', `${fn}: range must satisfy lo < hi, got [${range[0]}, ${range[1]}].`);
  if (certifiedRadii !== undefined && certifiedRadii.length !== n) {
    throw new LipschitzError('SHAPE_MISMATCH', `${fn}: certifiedRadii has ${certifiedRadii.length} entries but there are ${n} images. Pass certify(...).radii.`);
  }
}

function perExampleNorm(t: tf.Tensor): tf.Tensor {
  return tf.norm(tf.reshape(t, [t.shape[0], -1]), 'euclidean', 1);
}

function broadcastPerExample(v: tf.Tensor, rank: number): tf.Tensor {
  return tf.reshape(v, [v.shape[0], ...new Array(rank - 1).fill(1)]);
}

/**
 * Runs the L2 PGD of the reference on one batch from one start; returns the final adversarial
 * images (owned by the caller).
 */
function attackBatch(predict: Predict, x: tf.Tensor, mask: tf.Tensor, s: AttackSettings, startSeed: number | null): tf.Tensor {
  const [lo, hi] = s.range;
  const rank = x.rank;
  const loss = (xa: tf.Tensor): tf.Scalar => {
    const z = predict(xa);
    const zy = tf.sum(tf.mul(z, mask), 1);
    const zOther = tf.max(tf.sub(z, tf.mul(mask, OTHER_CLASS_MASK)), 1);
    return tf.neg(tf.mean(tf.relu(tf.add(tf.sub(zy, zOther), CW_CONFIDENCE)))) as tf.Scalar;
  };
  const gradient = tf.grad(loss);
  let adversarial = tf.tidy(() => {
    if (startSeed === null) return tf.clone(x);
    const noise = tf.randomUniform(x.shape, -s.epsilon, s.epsilon, 'float32', startSeed);
    return tf.clipByValue(tf.add(x, noise), lo, hi);
  });
  for (let step = 0; step < s.steps; step++) {
    const next = tf.tidy(() => {
      const g = gradient(adversarial);
      const gNorm = tf.maximum(perExampleNorm(g), GRADIENT_NORM_FLOOR);
      const direction = tf.div(g, broadcastPerExample(gNorm, rank));
      let delta = tf.add(tf.sub(adversarial, x), tf.mul(direction, s.stepSize));
      const dNorm = tf.maximum(perExampleNorm(delta), s.epsilon);
      delta = tf.mul(delta, broadcastPerExample(tf.div(s.epsilon, dNorm), rank));
      return tf.clipByValue(tf.add(x, delta), lo, hi);
    });
    adversarial.dispose();
    adversarial = next;
  }
  return adversarial;
}

/** Evaluates which examples of a batch are misclassified at `xa` within the tolerance. */
async function misclassifiedWithin(predict: Predict, x: tf.Tensor, xa: tf.Tensor, labels: ArrayLike<number>, offset: number, epsilon: number) {
  const [predictions, norms] = tf.tidy(() => [tf.argMax(predict(xa), 1), perExampleNorm(tf.sub(xa, x))]);
  const p = await predictions.data();
  const d = await norms.data();
  predictions.dispose();
  norms.dispose();
  const hits: { index: number; norm: number }[] = [];
  for (let i = 0; i < p.length; i++) {
    if (p[i] !== labels[offset + i] && d[i] < epsilon + ATTACK_NORM_TOLERANCE) hits.push({ index: offset + i, norm: d[i] });
  }
  return hits;
}

/** The batched attack driver shared by PGD and FGSM. @internal */
export async function runAttack(fn: string, predict: Predict, images: tf.Tensor, labels: tf.Tensor, s: AttackSettings): Promise<AttackResult> {
  const n = checkImagesAndLabels(fn, images, labels);
  checkAttackSettings(fn, s, n);
  if (typeof predict !== 'function') {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: predict must be a function (x) => logits, e.g. (x) => model.apply(x).`);
  }
  const y = await labels.data();
  const broken = new Uint8Array(n);
  const perturbationNorms = new Float64Array(n).fill(Number.NaN);
  const rng = new SeededRandom(s.seed);
  const runs = s.randomStart ? 1 + s.restarts : 1;
  let classes = -1;
  for (let offset = 0; offset < n; offset += s.batchSize) {
    const size = Math.min(s.batchSize, n - offset);
    const x = tf.tidy(() => tf.cast(tf.slice(images, offset, size), 'float32'));
    try {
      if (classes < 0) {
        const probe = tf.tidy(() => predict(tf.slice(x, 0, 1)));
        classes = probe.shape[probe.rank - 1];
        probe.dispose();
        checkLabelValues(fn, y, classes);
      }
      const mask = tf.tidy(() => oneHotMask(tf.slice(labels, offset, size), classes));
      try {
        for (const hit of await misclassifiedWithin(predict, x, x, y, offset, s.epsilon)) {
          broken[hit.index] = 1;
          perturbationNorms[hit.index] = 0;
        }
        for (let run = 0; run < runs; run++) {
          const seed = s.randomStart ? rng.seed() : null;
          const adversarial = attackBatch(predict, x, mask, s, seed);
          try {
            for (const hit of await misclassifiedWithin(predict, x, adversarial, y, offset, s.epsilon)) {
              if (broken[hit.index] === 0) {
                broken[hit.index] = 1;
                perturbationNorms[hit.index] = hit.norm;
              }
            }
          } finally {
            adversarial.dispose();
          }
        }
      } finally {
        mask.dispose();
      }
    } finally {
      x.dispose();
    }
  }
  let brokenCount = 0;
  const brokenCertifiedIndices: number[] = [];
  for (let i = 0; i < n; i++) {
    if (broken[i] === 0) continue;
    brokenCount++;
    if (s.certifiedRadii !== undefined && s.certifiedRadii[i] > perturbationNorms[i]) brokenCertifiedIndices.push(i);
  }
  return {
    robustAccuracy: n === 0 ? 0 : (n - brokenCount) / n,
    broken,
    perturbationNorms,
    brokenCertified: brokenCertifiedIndices.length,
    brokenCertifiedIndices,
    count: n,
  };
}
