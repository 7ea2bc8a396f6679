/**
 * What is tested: PGD and FGSM against an exact answer (a 2-class linear model, whose minimal
 * adversarial ℓ2 distance is (z_y − z_j) / ‖w_y − w_j‖), on an undefended conv net (PGD breaks it,
 * FGSM is weaker), the brokenCertified count (0 with a sound L, > 0 with a deliberately unsound one),
 * range clamping, leaks and validation.
 * What is not tested here: soundness on a 1-Lipschitz conv net (test/soundness.test.ts).
 */
import { type ExportedModel, decodeTensor } from '@lipschitz/core';
import { describeBackends, expectNoLeaks } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { conv, dense, model, normalValues } from '../test/fixtures';
import { certify } from './certify';
import { forwardOf } from '../test/fixtures';
import { fgsmAttack } from './fgsm-attack';
import { type ExportedForward, networkLipschitzUpperBound } from '@lipschitz/model-format';
import { pgdAttack } from './pgd-attack';

/** Host float64 logits and minimal adversarial distances of a 2-class linear model. */
function linearTruth(m: ExportedModel, xs: Float64Array, n: number) {
  const layer = m.layers[0] as Extract<ExportedModel['layers'][number], { type: 'dense' }>;
  const w = decodeTensor(layer.weight).values;
  const b = decodeTensor(layer.bias!).values;
  const d = 4;
  const labels: number[] = [];
  const distances: number[] = [];
  for (let i = 0; i < n; i++) {
    const z = [0, 1].map((o) => b[o] + Array.from({ length: d }, (_, k) => Math.fround(xs[i * d + k]) * w[k * 2 + o]).reduce((s, v) => s + v, 0));
    const y = z[0] >= z[1] ? 0 : 1;
    const gap = Math.abs(z[0] - z[1]);
    const diff = Math.hypot(...Array.from({ length: d }, (_, k) => w[k * 2] - w[k * 2 + 1]));
    labels.push(y);
    distances.push(gap / diff);
  }
  return { labels, distances };
}

describeBackends('attacks', () => {
  const linear = model([4], [dense(4, 2, 7)], [-100, 100]);
  const n = 4;
  const xs = normalValues(n * 4, 8);
  const truth = linearTruth(linear, xs, n);
  let forward: ExportedForward;
  beforeAll(() => {
    forward = forwardOf(linear);
  });
  afterAll(() => forward.dispose());
  const images = () => tf.tensor2d(Float32Array.from(xs), [n, 4]);
  const labels = () => tf.tensor1d(truth.labels, 'int32');

  it('PGD breaks a linear model just beyond the exact adversarial distance and never below it', async () => {
    for (let i = 0; i < n; i++) {
      const x = tf.tidy(() => tf.slice(images(), i, 1));
      const y = tf.tensor1d([truth.labels[i]], 'int32');
      const dist = truth.distances[i];
      const beyond = await pgdAttack(forward.predict, x, y, { epsilon: 1.02 * dist, steps: 40, stepSize: dist / 5, range: [-100, 100], seed: i });
      const within = await pgdAttack(forward.predict, x, y, { epsilon: 0.98 * dist, steps: 40, stepSize: dist / 5, range: [-100, 100], seed: i, restarts: 1 });
      expect(beyond.broken[0], `example ${i} at 1.02 × ${dist}`).toBe(1);
      expect(beyond.perturbationNorms[0]).toBeLessThan(1.02 * dist + 1e-6);
      expect(beyond.perturbationNorms[0]).toBeGreaterThanOrEqual(dist * (1 - 1e-4));
      expect(within.broken[0], `example ${i} at 0.98 × ${dist}`).toBe(0);
      expect(within.robustAccuracy).toBe(1);
    }
  });

  it('FGSM is exact on a linear model too (one step along the gradient)', async () => {
    const maxDist = Math.max(...truth.distances);
    const r = await fgsmAttack(forward.predict, images(), labels(), { epsilon: 1.01 * maxDist, range: [-100, 100] });
    expect(Array.from(r.broken)).toEqual([1, 1, 1, 1]);
    expect(r.robustAccuracy).toBe(0);
  });

  it('counts certified examples it breaks: 0 with the sound bound, > 0 with a deliberately unsound one', async () => {
    const z = forward.predict(images());
    const L = networkLipschitzUpperBound(linear).assumedFloat32Bound;
    // the old rule on logits alone (this test is about the attack's counting, not the float error)
    const sound = await certify(z, labels(), { lipschitz: L, epsilons: [], floatErrorModel: 'assume-relative-1e-5' });
    const unsound = await certify(z, labels(), { lipschitz: L / 10, epsilons: [], floatErrorModel: 'assume-relative-1e-5' });
    const epsilon = 1.05 * Math.max(...truth.distances);
    const options = { epsilon, steps: 50, stepSize: epsilon / 10, range: [-100, 100] as [number, number] };
    const withSound = await pgdAttack(forward.predict, images(), labels(), { ...options, certifiedRadii: sound.radii });
    const withUnsound = await pgdAttack(forward.predict, images(), labels(), { ...options, certifiedRadii: unsound.radii });
    expect(withSound.robustAccuracy).toBe(0);
    expect(withSound.brokenCertified).toBe(0);
    expect(withUnsound.brokenCertified).toBeGreaterThan(0);
    expect(withUnsound.brokenCertifiedIndices.length).toBe(withUnsound.brokenCertified);
  });

  it('PGD breaks an undefended conv net; FGSM is no stronger than PGD; iterates stay in range', async () => {
    const net = model([6, 6, 1], [conv([3, 3, 1, 8], 3, 'zero-same', { scale: 3 }), { type: 'relu' }, { type: 'flatten' }, dense(288, 5, 4, { scale: 3 })]);
    const run = forwardOf(net);
    const x = tf.randomUniform([16, 6, 6, 1], 0, 1, 'float32', 5);
    const predictions = tf.tidy(() => tf.cast(tf.argMax(run.predict(x), 1), 'int32'));
    let minSeen = Number.POSITIVE_INFINITY;
    let maxSeen = Number.NEGATIVE_INFINITY;
    const watched = (input: tf.Tensor) => {
      const [lo, hi] = tf.tidy(() => [tf.min(input), tf.max(input)]);
      minSeen = Math.min(minSeen, lo.dataSync()[0]);
      maxSeen = Math.max(maxSeen, hi.dataSync()[0]);
      lo.dispose();
      hi.dispose();
      return run.predict(input);
    };
    const pgd = await pgdAttack(watched, x, predictions, { epsilon: 0.3, steps: 20, stepSize: 0.05, restarts: 1, batchSize: 8 });
    const fgsm = await fgsmAttack(run.predict, x, predictions, { epsilon: 0.3, batchSize: 8 });
    run.dispose();
    expect(pgd.robustAccuracy).toBeLessThan(1);
    expect(pgd.robustAccuracy).toBeLessThanOrEqual(fgsm.robustAccuracy);
    for (let i = 0; i < 16; i++) if (pgd.broken[i]) expect(pgd.perturbationNorms[i]).toBeLessThan(0.3 + 1e-6);
    expect(minSeen).toBeGreaterThanOrEqual(0);
    expect(maxSeen).toBeLessThanOrEqual(1);
  });

  it('does not leak', async () => {
    const x = images();
    const y = labels();
    await expectNoLeaks(() => pgdAttack(forward.predict, x, y, { epsilon: 0.5, steps: 3, restarts: 1, range: [-100, 100], batchSize: 3 }), 2);
    await expectNoLeaks(() => fgsmAttack(forward.predict, x, y, { epsilon: 0.5, range: [-100, 100] }), 2);
  });

  it('rejects bad arguments', async () => {
    const x = images();
    const y = labels();
    const p = forward.predict;
    await expect(pgdAttack(p, x, y, { epsilon: 0 })).rejects.toThrow(/^pgdAttack: epsilon must be a finite number > 0/);
    await expect(pgdAttack(p, x, y, { epsilon: 1, steps: 0 })).rejects.toThrow(/^pgdAttack: steps must be a positive integer/);
    await expect(pgdAttack(p, x, y, { epsilon: 1, restarts: -1 })).rejects.toThrow(/^pgdAttack: restarts must be a non-negative integer/);
    await expect(pgdAttack(p, x, y, { epsilon: 1, range: [1, 0] })).rejects.toThrow(/^pgdAttack: range must satisfy lo < hi/);
    await expect(pgdAttack(p, x, y, { epsilon: 1, seed: 0.5 })).rejects.toThrow(/^pgdAttack: seed must be an integer/);
    await expect(pgdAttack(p, x, y, { epsilon: 1, certifiedRadii: [1] })).rejects.toThrow(/^pgdAttack: certifiedRadii has 1 entries but there are 4 images/);
    await expect(pgdAttack(p, x, tf.tensor1d([0, 1, 2, 0], 'int32'), { epsilon: 1 })).rejects.toThrow(/^pgdAttack: label 2 is 2, outside \[0, 2\)/);
    await expect(pgdAttack(p, x, tf.tensor1d([0, 1], 'int32'), { epsilon: 1 })).rejects.toThrow(/^pgdAttack: labels has 2 entries but images has 4/);
    await expect(pgdAttack(null as never, x, y, { epsilon: 1 })).rejects.toThrow(/^pgdAttack: predict must be a function/);
    await expect(fgsmAttack(p, x, y, { epsilon: 1, batchSize: 0 })).rejects.toThrow(/^fgsmAttack: batchSize must be a positive integer/);
  });
});
