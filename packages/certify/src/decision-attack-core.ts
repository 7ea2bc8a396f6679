import { LipschitzError, SeededRandom, assertPositiveInteger, assertPositiveNumber } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';
import { ATTACK_NORM_TOLERANCE, type AttackResult, type Predict, checkRangeAndRadii } from './attack-core';
import { checkImagesAndLabels, checkLabelValues } from './inputs';

/**
 * The search of one image in a decision-based attack, written as a generator: it yields a batch of query
 * points (flattened, float64, inside the input range) and receives, for each, whether the model
 * misclassifies it (1) or not (0). It ends when it has nothing more to ask. The driver keeps the closest
 * misclassified query of every image, as foolbox's `Adversarial` object does, so a search never has to
 * report its result. @internal
 */
export type DecisionSearch = Generator<Float64Array[], void, Uint8Array>;

/** The options every decision-based attack takes (`boundaryAttack`, `pointwiseAttack`). */
export interface DecisionAttackCommonOptions {
  /** Seed of every random draw (default 0). */
  seed?: number;
  /** Valid input range (default [0, 1]); every query is clamped into it. */
  range?: [number, number];
  /** Images per forward pass (default 500). */
  batchSize?: number;
  /** Per-example certified radii: any misclassified point found closer than its radius counts as broken. */
  certifiedRadii?: ArrayLike<number>;
  /** Called as searches finish: (finished images, all images). */
  onProgress?: (finishedImages: number, totalImages: number) => void;
  /**
   * Index of `images[0]` in a larger set attacked in parts (default 0): the per-image random streams are drawn as
   * if the `imageOffset` earlier images had come first, so attacking images `[k, k + m)` with `imageOffset: k` makes
   * the same draws for them as one call on the whole set — what lets a long attack be checkpointed part by part.
   */
  imageOffset?: number;
}

/** What a search is given. @internal */
export interface DecisionSearchContext {
  /** The clean image, flattened (float32 values held as float64). */
  readonly original: Float64Array;
  /** Valid input range. */
  readonly range: readonly [number, number];
  /** The image's own seeded generator. */
  readonly random: SeededRandom;
  /** Squared ℓ2 distance of the closest misclassified query so far (Infinity before the first). */
  bestSquaredDistance(): number;
  /** A copy of the closest misclassified query so far (null before the first). */
  best(): Float64Array | null;
}

/** Settings of the driver. @internal */
export interface DecisionAttackSettings {
  epsilon: number;
  seed: number;
  range: [number, number];
  batchSize: number;
  certifiedRadii?: ArrayLike<number>;
  onProgress?: (finishedImages: number, totalImages: number) => void;
  imageOffset: number;
}

/** Result of a decision-based attack: {@link AttackResult} plus the queries it spent. */
export interface DecisionAttackResult extends AttackResult {
  /** Model queries (forward evaluations of single images) spent per example. */
  queries: Float64Array;
}

/** Squared ℓ2 distance between two flattened images. @internal */
export function squaredDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    s += d * d;
  }
  return s;
}

/** Clamps every coordinate of `v` into `[lo, hi]`, in place. @internal */
export function clampInPlace(v: Float64Array, lo: number, hi: number): Float64Array {
  for (let i = 0; i < v.length; i++) v[i] = Math.min(hi, Math.max(lo, v[i]));
  return v;
}

function checkSettings(fn: string, s: DecisionAttackSettings, n: number): void {
  assertPositiveNumber(fn, 'epsilon', s.epsilon);
  if (!Number.isInteger(s.seed)) throw new LipschitzError('INVALID_ARGUMENT', `${fn}: seed must be an integer, got ${s.seed}.`);
  assertPositiveInteger(fn, 'batchSize', s.batchSize);
  if (!(Number.isInteger(s.imageOffset) && s.imageOffset >= 0)) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: imageOffset must be a non-negative integer (the index of the first image in the whole set), got ${s.imageOffset}.`);
  }
  checkRangeAndRadii(fn, s.range, s.certifiedRadii, n);
}

/** Runs `predict` on float32 rows (each one image) in chunks; returns argmax per row. */
async function predictClasses(predict: Predict, rows: Float32Array, count: number, imageShape: number[], batchSize: number): Promise<Int32Array> {
  const size = rows.length / Math.max(count, 1);
  const out = new Int32Array(count);
  for (let start = 0; start < count; start += batchSize) {
    const m = Math.min(batchSize, count - start);
    const classes = tf.tidy(() => {
      const x = tf.tensor(rows.subarray(start * size, (start + m) * size), [m, ...imageShape], 'float32');
      return tf.argMax(predict(x), 1);
    });
    const data = await classes.data();
    classes.dispose();
    out.set(data as Int32Array, start);
  }
  return out;
}

/**
 * Drives one decision-based search per image in lockstep: each round collects the queries of every
 * running search, evaluates them in batched forward passes (float32, as the model runs), and sends back
 * which are misclassified. The closest misclassified query of each image is kept; at the end it is
 * re-evaluated once more in float32 and its ℓ2 distance is computed in float64 from the float32 values
 * actually tested, so a reported perturbation is one the model really misclassifies. @internal
 */
export async function runDecisionAttack(
  fn: string,
  predict: Predict,
  images: tf.Tensor,
  labels: tf.Tensor,
  settings: DecisionAttackSettings,
  makeSearch: (context: DecisionSearchContext) => DecisionSearch,
): Promise<DecisionAttackResult> {
  const n = checkImagesAndLabels(fn, images, labels);
  checkSettings(fn, settings, n);
  if (typeof predict !== 'function') {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: predict must be a function (x) => logits, e.g. (x) => model.apply(x).`);
  }
  const imageShape = images.shape.slice(1);
  const size = imageShape.reduce((a, b) => a * b, 1);
  const y = await labels.data();
  const cast = tf.cast(images, 'float32');
  const pixels = (await cast.data()) as Float32Array;
  cast.dispose();
  const [lo, hi] = settings.range;
  for (let i = 0; i < pixels.length; i++) {
    if (!(pixels[i] >= lo && pixels[i] <= hi)) {
      throw new LipschitzError('INVALID_ARGUMENT', `${fn}: image ${Math.floor(i / size)} has a value ${pixels[i]} outside the range [${lo}, ${hi}]. Pass images inside the range (or the right range).`);
    }
  }
  const probe = tf.tidy(() => predict(tf.tensor(pixels.subarray(0, size), [1, ...imageShape], 'float32')));
  const classes = probe.shape[probe.rank - 1];
  probe.dispose();
  checkLabelValues(fn, y, classes);

  const clean = await predictClasses(predict, pixels, n, imageShape, settings.batchSize);
  const bestDistance = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  const bestPoint: (Float64Array | null)[] = new Array(n).fill(null);
  const queries = new Float64Array(n);
  const searches: { index: number; search: DecisionSearch; pending: Float64Array[] }[] = [];
  const base = new SeededRandom(settings.seed);
  // The streams of the images before this part: image i's generator is seeded by the (i + 1)-th draw of `base`.
  for (let skipped = 0; skipped < settings.imageOffset; skipped++) base.seed();
  let finished = 0;
  for (let i = 0; i < n; i++) {
    const random = new SeededRandom(base.seed());
    if (clean[i] !== y[i]) {
      bestDistance[i] = 0;
      finished++;
      continue;
    }
    const original = Float64Array.from(pixels.subarray(i * size, (i + 1) * size));
    const context: DecisionSearchContext = {
      original,
      range: [lo, hi],
      random,
      bestSquaredDistance: () => bestDistance[i],
      best: () => (bestPoint[i] === null ? null : Float64Array.from(bestPoint[i] as Float64Array)),
    };
    const search = makeSearch(context);
    const first = search.next();
    if (first.done) finished++;
    else searches.push({ index: i, search, pending: first.value });
  }
  settings.onProgress?.(finished, n);

  let active = searches;
  while (active.length > 0) {
    let total = 0;
    for (const s of active) total += s.pending.length;
    const rows = new Float32Array(total * size);
    let row = 0;
    for (const s of active) {
      for (const q of s.pending) {
        if (q.length !== size) throw new LipschitzError('SHAPE_MISMATCH', `${fn}: internal search produced a query of ${q.length} values, expected ${size}.`);
        rows.set(q, row * size);
        row++;
      }
    }
    const predicted = await predictClasses(predict, rows, total, imageShape, settings.batchSize);
    row = 0;
    const next: typeof active = [];
    for (const s of active) {
      const flags = new Uint8Array(s.pending.length);
      for (let k = 0; k < s.pending.length; k++, row++) {
        if (predicted[row] === y[s.index]) continue;
        flags[k] = 1;
        // Distance of the float32 point the model saw.
        const tested = rows.subarray(row * size, (row + 1) * size);
        const d = squaredDistance(tested, pixels.subarray(s.index * size, (s.index + 1) * size));
        if (d < bestDistance[s.index]) {
          bestDistance[s.index] = d;
          bestPoint[s.index] = Float64Array.from(tested);
        }
      }
      queries[s.index] += s.pending.length;
      const step = s.search.next(flags);
      if (step.done) {
        finished++;
        settings.onProgress?.(finished, n);
      } else {
        s.pending = step.value;
        next.push(s);
      }
    }
    active = next;
  }

  // Re-check the kept points in float32 (deterministic backends give the same answer; anything else is dropped).
  const found = bestPoint.map((p, i) => (p !== null ? i : -1)).filter((i) => i >= 0);
  if (found.length > 0) {
    const rows = new Float32Array(found.length * size);
    for (const [k, i] of found.entries()) rows.set(bestPoint[i] as Float64Array, k * size);
    const predicted = await predictClasses(predict, rows, found.length, imageShape, settings.batchSize);
    found.forEach((i, k) => {
      if (predicted[k] === y[i]) {
        bestDistance[i] = Number.POSITIVE_INFINITY;
        bestPoint[i] = null;
      }
    });
  }

  const broken = new Uint8Array(n);
  const perturbationNorms = new Float64Array(n).fill(Number.NaN);
  const brokenCertifiedIndices: number[] = [];
  let brokenCount = 0;
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(bestDistance[i])) continue;
    const norm = Math.sqrt(bestDistance[i]);
    perturbationNorms[i] = norm;
    if (norm < settings.epsilon + ATTACK_NORM_TOLERANCE) {
      broken[i] = 1;
      brokenCount++;
    }
    // Any misclassified point inside a certified ball breaks the certificate, whatever ε is.
    if (settings.certifiedRadii !== undefined && settings.certifiedRadii[i] > norm) brokenCertifiedIndices.push(i);
  }
  return {
    robustAccuracy: n === 0 ? 0 : (n - brokenCount) / n,
    broken,
    perturbationNorms,
    brokenCertified: brokenCertifiedIndices.length,
    brokenCertifiedIndices,
    count: n,
    queries,
  };
}
