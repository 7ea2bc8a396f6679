/**
 * What is tested: certify on hand-made logits (margins, radii, predictions, ties, misclassified
 * examples never certified, the strict threshold), input validation.
 * What is not tested here: where L comes from (network-bound.test.ts) and attacks (test/soundness.test.ts).
 */
import { describeBackends, expectNoLeaks } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { certify } from './certify';

/** These tests pin the old rule's arithmetic; the default rule is tested in float-error-bound.test.ts. */
const OLD = 'assume-relative-1e-5' as const;

describeBackends('certify', () => {
  const logits = () =>
    tf.tensor2d([
      [3, 1, 0], // y = 0: margin 2
      [1, 3, 0], // y = 0: misclassified
      [2, 2, 0], // y = 0: tie, argmax picks 0 but margin 0
      [0, 0.5, 1.2], // y = 2: margin 0.7
    ]);
  const labels = () => tf.tensor1d([0, 0, 0, 2], 'int32');

  it('computes margins, radii, predictions and certified accuracy by the reference rule', async () => {
    const L = 1.5;
    const r = await certify(logits(), labels(), { lipschitz: L, epsilons: [0, 0.3, 0.5, 1], floatErrorModel: OLD });
    expect(Array.from(r.predictions)).toEqual([0, 1, 0, 2]);
    expect(Array.from(r.correct)).toEqual([1, 0, 1, 1]);
    expect(r.clean).toBe(0.75);
    expect(r.margins[0]).toBe(2);
    expect(r.margins[1]).toBe(0);
    expect(r.margins[2]).toBe(0);
    expect(r.margins[3]).toBeCloseTo(0.7, 6);
    expect(r.radii[0]).toBeCloseTo(2 / (Math.SQRT2 * 1.5), 12);
    expect(r.radii[3]).toBeCloseTo(r.margins[3] / (Math.SQRT2 * 1.5), 12);
    expect(r.radii[1]).toBe(0);
    // thresholds √2·ε·L: 0, 0.636, 1.061, 2.121
    expect(r.certifiedAccuracy).toEqual({ '0': 0.5, '0.3': 0.5, '0.5': 0.25, '1': 0 });
    expect(r.count).toBe(4);
    expect(r.lipschitz).toBe(1.5);
  });

  it('never certifies a misclassified example, whatever its logit gaps', async () => {
    // y = 1 but class 0 wins by 10: the "margin" is 0, radius 0, never certified even at ε = 0
    const r = await certify(tf.tensor2d([[10, 0, -5]]), tf.tensor1d([1], 'int32'), { lipschitz: 0.01, epsilons: [0], floatErrorModel: OLD });
    expect(r.margins[0]).toBe(0);
    expect(r.certifiedAccuracy['0']).toBe(0);
  });

  it('uses a strict threshold: certified just above √2·ε·L, not just below', async () => {
    const margin = 0.5; // logits [0.75, 0.25] are exact in float32
    const z = () => tf.tensor2d([[0.75, 0.25]]);
    const y = () => tf.tensor1d([0], 'int32');
    const epsilonAtThreshold = margin / Math.SQRT2;
    const above = await certify(z(), y(), { lipschitz: 1, epsilons: [epsilonAtThreshold * (1 - 1e-9)], floatErrorModel: OLD });
    const below = await certify(z(), y(), { lipschitz: 1, epsilons: [epsilonAtThreshold * (1 + 1e-9)], floatErrorModel: OLD });
    expect(Object.values(above.certifiedAccuracy)).toEqual([1]);
    expect(Object.values(below.certifiedAccuracy)).toEqual([0]);
  });

  it('leaves no tensors behind', async () => {
    const z = logits();
    const y = labels();
    await expectNoLeaks(() => certify(z, y, { lipschitz: 1, epsilons: [0.1], floatErrorModel: OLD }));
  });

  it('rejects bad arguments', async () => {
    await expect(certify(logits(), labels(), { lipschitz: 0, epsilons: [1], floatErrorModel: OLD })).rejects.toThrow(/^certify: lipschitz must be a finite number > 0/);
    await expect(certify(logits(), labels(), { lipschitz: 1, epsilons: [-1], floatErrorModel: OLD })).rejects.toThrow(/^certify: every epsilon must be a finite number >= 0/);
    await expect(certify(logits(), labels(), { lipschitz: 1, epsilons: 1 as unknown as number[], floatErrorModel: OLD })).rejects.toThrow(/^certify: epsilons must be an array/);
    await expect(certify(logits(), tf.tensor1d([0, 0, 0, 3], 'int32'), { lipschitz: 1, epsilons: [1], floatErrorModel: OLD })).rejects.toThrow(/^certify: label 3 is 3, outside \[0, 3\)/);
    await expect(certify(tf.tensor2d([[Number.NaN, 1]]), tf.tensor1d([0], 'int32'), { lipschitz: 1, epsilons: [1], floatErrorModel: OLD })).rejects.toThrow(/^certify: logit \[0, 0\] is NaN/);
    await expect(certify(logits(), tf.tensor1d([0, 0], 'int32'), { lipschitz: 1, epsilons: [1], floatErrorModel: OLD })).rejects.toThrow(/^certify: labels has 2 entries but logits has 4 rows/);
  });
});
