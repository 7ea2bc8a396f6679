/**
 * What is tested: the Boundary and Pointwise attacks against an exact answer — a 3-class linear classifier
 * z = Wx + b with images inside [0, 1] whose closest misclassified point lies inside the box, so the minimal
 * adversarial ℓ2 distance is min_{j≠y} (z_y − z_j)/‖w_y − w_j‖ exactly (float64 on the host). Each attack must
 * never report a distance below it (a found point is truly misclassified) and must get within a stated factor
 * of it; the brokenCertified count (0 with the true radii, > 0 with inflated ones), clean misclassifications,
 * determinism under a seed, attacking in parts (imageOffset) equal to one call, range and option validation, leaks.
 */
import { SeededRandom } from '@lipschitz/core';
import { describeBackends, expectNoLeaks } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { boundaryAttack } from './boundary-attack';
import { pointwiseAttack } from './pointwise-attack';

const D = 12;
const C = 3;

/** A seeded linear problem: weights, biases, images at a known distance from the boundary, host truth. */
function problem(n: number, seed: number) {
  const rng = new SeededRandom(seed);
  const w = new Float64Array(D * C).map(() => Math.fround(rng.normal() / Math.sqrt(D)));
  const b = new Float64Array(C);
  const images = new Float32Array(n * D);
  const labels: number[] = [];
  const distances: number[] = [];
  const projectionsInBox: boolean[] = [];
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < D; k++) images[i * D + k] = 0.35 + 0.3 * rng.uniform();
  }
  const logits = (i: number) => Array.from({ length: C }, (_, o) => b[o] + Array.from({ length: D }, (_, k) => images[i * D + k] * w[k * C + o]).reduce((s, v) => s + v, 0));
  for (let i = 0; i < n; i++) {
    const z = logits(i);
    const y = z.indexOf(Math.max(...z));
    let best = Number.POSITIVE_INFINITY;
    let inBox = false;
    for (let j = 0; j < C; j++) {
      if (j === y) continue;
      const diff = Array.from({ length: D }, (_, k) => w[k * C + y] - w[k * C + j]);
      const diffNorm = Math.hypot(...diff);
      const distance = (z[y] - z[j]) / diffNorm;
      if (distance < best) {
        best = distance;
        // The closest point of the half-space {z_j ≥ z_y}: x − distance·diff/‖diff‖.
        inBox = diff.every((v, k) => {
          const c = images[i * D + k] - (distance * v) / diffNorm;
          return c >= 0 && c <= 1;
        });
      }
    }
    labels.push(y);
    distances.push(best);
    projectionsInBox.push(inBox);
  }
  return { w, b, images, labels, distances, projectionsInBox };
}

describeBackends('decision attacks', () => {
  const n = 4;
  const p = problem(n, 11);
  const predict = (x: tf.Tensor) => tf.tidy(() => tf.add(tf.matMul(tf.reshape(x, [x.shape[0], D]), tf.tensor2d(Float32Array.from(p.w), [D, C], "float32")), tf.tensor1d(Float32Array.from(p.b), "float32")));
  const input = () => ({ x: tf.tensor(p.images, [n, D], 'float32'), y: tf.tensor1d(p.labels, 'int32') });

  it('the truth is inside the box (the closest boundary point has every coordinate in [0, 1])', () => {
    // then the minimal distance within [0, 1]^D is exactly the distance to the nearest hyperplane
    expect(p.projectionsInBox).toEqual(new Array(n).fill(true));
    expect(Math.min(...p.distances)).toBeGreaterThan(0);
  });

  it('boundary attack: never below the minimal distance, within 1.05× of it', async () => {
    const { x, y } = input();
    const r = await boundaryAttack(predict, x, y, { epsilon: 10, seed: 3, iterations: 1500 });
    for (let i = 0; i < n; i++) {
      expect(r.perturbationNorms[i]).toBeGreaterThanOrEqual(p.distances[i] * (1 - 1e-5));
      expect(r.perturbationNorms[i]).toBeLessThanOrEqual(p.distances[i] * 1.05);
    }
    expect(r.robustAccuracy).toBe(0);
    expect(r.broken.every((v) => v === 1)).toBe(true);
    expect(r.queries.every((q) => q > 0)).toBe(true);
    x.dispose();
    y.dispose();
  });

  it('pointwise attack: never below the minimal distance, within 3× of it', async () => {
    const { x, y } = input();
    const r = await pointwiseAttack(predict, x, y, { epsilon: 10, seed: 5 });
    for (let i = 0; i < n; i++) {
      expect(r.perturbationNorms[i]).toBeGreaterThanOrEqual(p.distances[i] * (1 - 1e-5));
      expect(r.perturbationNorms[i]).toBeLessThanOrEqual(p.distances[i] * 3);
    }
    x.dispose();
    y.dispose();
  });

  it('counts broken certificates: 0 with the true radii, all with radii inflated ×2', async () => {
    const { x, y } = input();
    const truthful = p.distances.map((d) => d * (1 - 1e-4));
    const inflated = p.distances.map((d) => d * 2);
    const honest = await boundaryAttack(predict, x, y, { epsilon: 0.01, seed: 1, iterations: 200, certifiedRadii: truthful });
    expect(honest.brokenCertified).toBe(0);
    const lied = await pointwiseAttack(predict, x, y, { epsilon: 0.01, seed: 1, certifiedRadii: inflated });
    expect(lied.brokenCertified).toBe(n);
    expect(lied.brokenCertifiedIndices).toEqual([0, 1, 2, 3]);
    // ε below every distance: nothing is broken within ε
    expect(lied.robustAccuracy).toBe(1);
    x.dispose();
    y.dispose();
  });

  it('a clean misclassification is broken at distance 0 and costs no query', async () => {
    const { x } = input();
    const wrong = tf.tensor1d(p.labels.map((l) => (l + 1) % C), 'int32');
    const r = await boundaryAttack(predict, x, wrong, { epsilon: 0.5, iterations: 10 });
    expect(Array.from(r.perturbationNorms)).toEqual(new Array(n).fill(0));
    expect(Array.from(r.queries)).toEqual(new Array(n).fill(0));
    x.dispose();
    wrong.dispose();
  });

  it('is deterministic under a seed', async () => {
    const { x, y } = input();
    const a = await pointwiseAttack(predict, x, y, { epsilon: 1, seed: 9, maxQueries: 300 });
    const b = await pointwiseAttack(predict, x, y, { epsilon: 1, seed: 9, maxQueries: 300 });
    expect(Array.from(a.perturbationNorms)).toEqual(Array.from(b.perturbationNorms));
    x.dispose();
    y.dispose();
  });

  it('attacking in parts with imageOffset gives the result of one call (what checkpointed runs rely on)', async () => {
    const { x, y } = input();
    const whole = {
      boundary: await boundaryAttack(predict, x, y, { epsilon: 1, seed: 4, iterations: 120 }),
      pointwise: await pointwiseAttack(predict, x, y, { epsilon: 1, seed: 4, maxQueries: 200 }),
    };
    const head = { x: tf.slice(x, [0, 0], [2, D]), y: tf.slice(y, [0], [2]) };
    const tail = { x: tf.slice(x, [2, 0], [2, D]), y: tf.slice(y, [2], [2]) };
    for (const attack of ['boundary', 'pointwise'] as const) {
      const run = (part: typeof head, imageOffset?: number) =>
        attack === 'boundary'
          ? boundaryAttack(predict, part.x, part.y, { epsilon: 1, seed: 4, iterations: 120, imageOffset })
          : pointwiseAttack(predict, part.x, part.y, { epsilon: 1, seed: 4, maxQueries: 200, imageOffset });
      const first = await run(head);
      const second = await run(tail, 2);
      expect([...first.perturbationNorms, ...second.perturbationNorms]).toEqual(Array.from(whole[attack].perturbationNorms));
      expect([...first.queries, ...second.queries]).toEqual(Array.from(whole[attack].queries));
      // without the offset the second part replays the first images' streams: a different search
      const unshifted = await run(tail);
      expect(Array.from(unshifted.perturbationNorms)).not.toEqual(Array.from(second.perturbationNorms));
    }
    await expect(boundaryAttack(predict, x, y, { epsilon: 1, imageOffset: -1 })).rejects.toThrow(/imageOffset/);
    await expect(pointwiseAttack(predict, x, y, { epsilon: 1, imageOffset: 0.5 })).rejects.toThrow(/imageOffset/);
    for (const t of [x, y, head.x, head.y, tail.x, tail.y]) t.dispose();
  });

  it('refuses images outside the range and bad options', async () => {
    const { x, y } = input();
    const shifted = tf.add(x, 1);
    await expect(boundaryAttack(predict, shifted, y, { epsilon: 1 })).rejects.toThrow(/outside the range/);
    await expect(boundaryAttack(predict, x, y, { epsilon: 0 })).rejects.toThrow(/epsilon/);
    await expect(async () => boundaryAttack(predict, x, y, { epsilon: 1, iterations: 0 })).rejects.toThrow(/iterations/);
    await expect(async () => pointwiseAttack(predict, x, y, { epsilon: 1, binarySearchSteps: 1.5 })).rejects.toThrow(/binarySearchSteps/);
    await expect(pointwiseAttack(predict, x, tf.tensor1d([0, 1], 'int32'), { epsilon: 1 })).rejects.toThrow(/labels/);
    shifted.dispose();
    x.dispose();
    y.dispose();
  });

  it('does not leak', async () => {
    const { x, y } = input();
    await expectNoLeaks(async () => {
      await boundaryAttack(predict, x, y, { epsilon: 1, iterations: 20 });
      await pointwiseAttack(predict, x, y, { epsilon: 1, maxQueries: 50 });
    });
    x.dispose();
    y.dispose();
  });
});
