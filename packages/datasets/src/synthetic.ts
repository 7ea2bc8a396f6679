import { LipschitzError, SeededRandom, assertNonNegativeInteger, assertPositiveInteger } from '@lipschitz/core';
import type { ImageSet } from './image-set';

/**
 * A set of `count` points in R^dim held on the host, row-major: point `i` is
 * `points[i·dim .. (i+1)·dim − 1]`. Optional `labels` say which component a point came from.
 */
export interface PointSet {
  points: Float64Array | Float32Array;
  count: number;
  dim: number;
  /** Component / class of each point, when the generator has one. */
  labels?: Int32Array;
}

function assertSeed(fn: string, seed: unknown): asserts seed is number {
  if (typeof seed !== 'number' || !Number.isInteger(seed)) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: seed must be an integer, got ${String(seed)}. Pass { seed: 0 } (equal seeds give equal sets).`);
  }
}

function assertNonNegativeNumber(fn: string, name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: ${name} must be a finite number >= 0, got ${String(value)}.`);
  }
}

/** Options of {@link gaussianBlobs}. */
export interface GaussianBlobsOptions {
  /** Number of points. */
  count: number;
  /** Dimension of the points (default 2; ignored when `centers` is an array). */
  dim?: number;
  /** Number of blobs with centres drawn uniformly in `[-centerBox, centerBox]^dim` (default 3), or the centres themselves. */
  centers?: number | number[][];
  /** Standard deviation of every blob (default 1). */
  std?: number;
  /** Half-width of the box the random centres are drawn from (default 10). */
  centerBox?: number;
  /** Seed of the generator (default 0). */
  seed?: number;
}

/**
 * Isotropic Gaussian blobs (as scikit-learn's `make_blobs`): point `i` belongs to blob `i mod k` and is
 * `centre_k + std·z` with `z ~ N(0, I)` drawn from a {@link SeededRandom}. Float64, deterministic for a
 * seed; `labels[i]` is the blob. Browser-safe.
 *
 * Throws `INVALID_ARGUMENT` for a non-positive count/dim, negative std, ragged or empty centres, or a
 * non-integer seed.
 *
 * @example
 * ```ts
 * const blobs = gaussianBlobs({ count: 512, dim: 2, centers: [[0, 0], [5, 5]], std: 0.5, seed: 1 });
 * ```
 * @see F. Pedregosa et al., "Scikit-learn: Machine Learning in Python", JMLR 2011 (`make_blobs`).
 */
export function gaussianBlobs(options: GaussianBlobsOptions): PointSet {
  const fn = 'gaussianBlobs';
  const { count, std = 1, centerBox = 10, seed = 0 } = options ?? ({} as GaussianBlobsOptions);
  assertPositiveInteger(fn, 'count', count);
  assertNonNegativeNumber(fn, 'std', std);
  assertNonNegativeNumber(fn, 'centerBox', centerBox);
  assertSeed(fn, seed);
  const rng = new SeededRandom(seed);
  let centres: number[][];
  let dim: number;
  if (Array.isArray(options.centers)) {
    centres = options.centers;
    dim = centres[0]?.length ?? 0;
    if (centres.length === 0 || dim === 0 || centres.some((c) => !Array.isArray(c) || c.length !== dim || c.some((v) => !Number.isFinite(v)))) {
      throw new LipschitzError('INVALID_ARGUMENT', `${fn}: centers must be a non-empty array of equal-length arrays of finite numbers, e.g. [[0, 0], [5, 5]].`);
    }
  } else {
    const k = options.centers ?? 3;
    dim = options.dim ?? 2;
    assertPositiveInteger(fn, 'centers', k);
    assertPositiveInteger(fn, 'dim', dim);
    centres = Array.from({ length: k }, () => Array.from({ length: dim }, () => (2 * rng.uniform() - 1) * centerBox));
  }
  const points = new Float64Array(count * dim);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const k = i % centres.length;
    labels[i] = k;
    for (let j = 0; j < dim; j++) points[i * dim + j] = centres[k][j] + std * rng.normal();
  }
  return { points, count, dim, labels };
}

/** Options of {@link twoMoons}. */
export interface TwoMoonsOptions {
  /** Number of points (the outer moon gets `floor(count / 2)`). */
  count: number;
  /** Standard deviation of Gaussian noise added to each coordinate (default 0). */
  noise?: number;
  /** Seed of the generator (default 0). */
  seed?: number;
}

/**
 * Two interleaving half circles in R² (scikit-learn's `make_moons`): the outer moon
 * `(cos t, sin t)` and the inner moon `(1 − cos t, 1 − sin t − 0.5)` for `t` evenly spaced in [0, π],
 * plus `N(0, noise²)` per coordinate. Labels 0 (outer) and 1 (inner). Float64, deterministic.
 * Browser-safe.
 *
 * Throws `INVALID_ARGUMENT` for a non-positive count, negative noise or non-integer seed.
 *
 * @example
 * ```ts
 * const moons = twoMoons({ count: 1000, noise: 0.05, seed: 0 });
 * ```
 * @see Pedregosa et al., JMLR 2011 (`make_moons`).
 */
export function twoMoons(options: TwoMoonsOptions): PointSet {
  const fn = 'twoMoons';
  const { count, noise = 0, seed = 0 } = options ?? ({} as TwoMoonsOptions);
  assertPositiveInteger(fn, 'count', count);
  assertNonNegativeNumber(fn, 'noise', noise);
  assertSeed(fn, seed);
  const rng = new SeededRandom(seed);
  const outer = Math.floor(count / 2);
  const inner = count - outer;
  const points = new Float64Array(count * 2);
  const labels = new Int32Array(count);
  const at = (n: number, i: number) => (n > 1 ? (Math.PI * i) / (n - 1) : 0);
  for (let i = 0; i < outer; i++) {
    const t = at(outer, i);
    points[2 * i] = Math.cos(t);
    points[2 * i + 1] = Math.sin(t);
  }
  for (let i = 0; i < inner; i++) {
    const t = at(inner, i);
    const p = outer + i;
    points[2 * p] = 1 - Math.cos(t);
    points[2 * p + 1] = 1 - Math.sin(t) - 0.5;
    labels[p] = 1;
  }
  if (noise > 0) for (let i = 0; i < points.length; i++) points[i] += noise * rng.normal();
  return { points, count, dim: 2, labels };
}

/**
 * A copy of `set` moved by the vector `d`: `points'[i] = points[i] + d` (float64). The 1-Wasserstein
 * distance (Euclidean ground cost) between the empirical measures of `set` and of the copy is exactly
 * `‖d‖₂`: the translation coupling costs `‖d‖₂`, and the 1-Lipschitz function `f(x) = ⟨x, d⟩ / ‖d‖₂`
 * certifies `W1 ≥ E f(x + d) − E f(x) = ‖d‖₂` (Kantorovich–Rubinstein duality). A known-W1 test case
 * for critics; up to the float64 rounding of the additions. Labels are kept. Browser-safe.
 *
 * Throws `INVALID_ARGUMENT` when `set` is not a {@link PointSet} or `d` does not have `dim` finite entries.
 *
 * @example
 * ```ts
 * const a = gaussianBlobs({ count: 256, dim: 2, seed: 0 });
 * const b = translated(a, [3, 4]); // W1(a, b) = 5
 * ```
 * @see C. Villani, "Optimal Transport: Old and New", 2009 (Kantorovich–Rubinstein duality).
 */
export function translated(set: PointSet, d: ArrayLike<number>): PointSet {
  assertPointSet('translated', set);
  if (d == null || d.length !== set.dim || !Array.from(d).every((v) => Number.isFinite(v))) {
    throw new LipschitzError('INVALID_ARGUMENT', `translated: d must have ${set.dim} finite entries (the set's dim), got ${d == null ? String(d) : `length ${d.length}`}.`);
  }
  const points = new Float64Array(set.count * set.dim);
  for (let i = 0; i < set.count; i++) {
    for (let j = 0; j < set.dim; j++) points[i * set.dim + j] = set.points[i * set.dim + j] + d[j];
  }
  return { points, count: set.count, dim: set.dim, ...(set.labels ? { labels: set.labels.slice() } : {}) };
}

/** Throws `INVALID_ARGUMENT` unless `set` is a consistent {@link PointSet}. @internal */
export function assertPointSet(fn: string, set: unknown): asserts set is PointSet {
  const s = set as PointSet;
  const ok =
    s != null &&
    (s.points instanceof Float64Array || s.points instanceof Float32Array) &&
    Number.isInteger(s.count) &&
    Number.isInteger(s.dim) &&
    s.count >= 0 &&
    s.dim >= 1 &&
    s.points.length === s.count * s.dim &&
    (s.labels === undefined || (s.labels instanceof Int32Array && s.labels.length === s.count));
  if (!ok) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: set must be a PointSet ({ points: Float64Array | Float32Array of count·dim values, count, dim }).`);
  }
}

/** Options of {@link syntheticImages}. */
export interface SyntheticImagesOptions {
  count: number;
  height: number;
  width: number;
  channels: number;
  /** Number of classes (default 10). */
  numClasses?: number;
  /** Standard deviation of the per-pixel noise around each class prototype (default 0.1). */
  noise?: number;
  /** Seed of the generator (default 0). */
  seed?: number;
}

/**
 * A small labelled image set with learnable class structure, for tests and examples: each class `k` has a
 * smooth prototype image `P_k` (a sum of three Gaussian bumps at seeded positions, values in [0.1, 0.9],
 * one brightness per channel), and example `i` of class `y_i` is `clip(P_{y_i} + noise·z, 0, 1)` with
 * `z ~ N(0, I)`. Classes are balanced (`y_i = i mod numClasses`, then shuffled). NHWC float32 in [0, 1],
 * deterministic for a seed, browser-safe. With the default noise a nearest-prototype classifier is
 * almost always right, so a small network can learn the set quickly.
 *
 * Throws `INVALID_ARGUMENT` for non-positive sizes, negative noise or a non-integer seed.
 *
 * @example
 * ```ts
 * const set = syntheticImages({ count: 256, height: 8, width: 8, channels: 1, numClasses: 4, seed: 0 });
 * ```
 */
export function syntheticImages(options: SyntheticImagesOptions): ImageSet {
  const fn = 'syntheticImages';
  const { count, height, width, channels, numClasses = 10, noise = 0.1, seed = 0 } = options ?? ({} as SyntheticImagesOptions);
  assertNonNegativeInteger(fn, 'count', count);
  assertPositiveInteger(fn, 'height', height);
  assertPositiveInteger(fn, 'width', width);
  assertPositiveInteger(fn, 'channels', channels);
  assertPositiveInteger(fn, 'numClasses', numClasses);
  assertNonNegativeNumber(fn, 'noise', noise);
  assertSeed(fn, seed);
  const rng = new SeededRandom(seed);
  const pixels = height * width * channels;
  const prototypes = new Float32Array(numClasses * pixels);
  for (let k = 0; k < numClasses; k++) {
    const bumps = Array.from({ length: 3 }, () => ({
      y: rng.uniform() * height,
      x: rng.uniform() * width,
      radius: (0.15 + 0.25 * rng.uniform()) * Math.max(height, width),
      sign: rng.uniform() < 0.5 ? -1 : 1,
    }));
    const tint = Array.from({ length: channels }, () => 0.5 + rng.uniform());
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let v = 0;
        for (const b of bumps) v += b.sign * Math.exp(-((y - b.y) ** 2 + (x - b.x) ** 2) / (2 * b.radius * b.radius));
        for (let c = 0; c < channels; c++) {
          prototypes[k * pixels + (y * width + x) * channels + c] = Math.min(0.9, Math.max(0.1, 0.5 + 0.4 * Math.tanh(v * tint[c])));
        }
      }
    }
  }
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) labels[i] = i % numClasses;
  rng.shuffle<number, Int32Array>(labels);
  const images = new Float32Array(count * pixels);
  for (let i = 0; i < count; i++) {
    const proto = labels[i] * pixels;
    for (let p = 0; p < pixels; p++) {
      const v = prototypes[proto + p] + noise * rng.normal();
      images[i * pixels + p] = Math.min(1, Math.max(0, v));
    }
  }
  return { images, labels, count, height, width, channels, numClasses, name: `synthetic-images/${seed}` };
}
