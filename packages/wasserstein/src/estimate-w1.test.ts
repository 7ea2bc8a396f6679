import { SeededRandom } from '@lipschitz/core';
import { gaussianBlobs, translated } from '@lipschitz/datasets';
import { bjorckDense, maxMin, sequential } from '@lipschitz/layers';
import { describeBackends, expectNoLeaks } from '@lipschitz/test-utils';
import { expect, it } from 'vitest';
import { criticGapOnPoints, criticGapOnSamples } from './critic-gap';
import { estimateW1 } from './estimate-w1';
import { exactW1 } from './exact-w1';
import { pointCloudRows, pointCloudSampler } from './sampler';

const DIM = 4;
const D = [1.2, -0.9, 0.6, 1.0]; // ‖d‖ = 2.0273...
const NORM_D = Math.hypot(...D);

function critic(seed: number) {
  return sequential([
    bjorckDense({ inputs: DIM, outputs: 16, seed }),
    maxMin(),
    bjorckDense({ inputs: 16, outputs: 16, seed: seed + 1 }),
    maxMin(),
    bjorckDense({ inputs: 16, outputs: 1, seed: seed + 2 }),
  ]);
}

describeBackends('estimateW1', () => {
  it('recovers ‖d‖ between a Gaussian sample and its translate, never above the exact empirical W1', async () => {
    const base = gaussianBlobs({ count: 800, centers: [[0, 0, 0, 0]], std: 1, seed: 3 });
    const shifted = translated(base, D);
    // Train on the first 600 points of each set; hold out the last 200.
    const trainP = pointCloudRows(shifted, 0, 600);
    const trainQ = pointCloudRows(base, 0, 600);
    const heldP = pointCloudRows(shifted, 600, 200);
    const heldQ = pointCloudRows(base, 600, 200);
    const f = critic(7);
    try {
      const result = await estimateW1({
        critic: f,
        p: pointCloudSampler(trainP),
        q: pointCloudSampler(trainQ),
        inputShape: [DIM],
        steps: 100,
        batchSize: 64,
        optimizer: { kind: 'adam', learningRate: 0.02 },
        evaluation: { p: pointCloudSampler(heldP), q: pointCloudSampler(heldQ), pairs: 1024 },
        seed: 1,
      });
      // The exact W1 of a set and its translate is exactly ‖d‖; the critic must get within 5%.
      expect(result.lipschitzUpperBound).toBeLessThan(1.001);
      expect(Math.abs(result.estimate - NORM_D) / NORM_D).toBeLessThan(0.05);
      expect(result.history.length).toBe(10);
      // On its own training samples a (≤1)-Lipschitz critic cannot beat the exact empirical W1.
      const onTrain = (await criticGapOnPoints(f, trainP, trainQ)) / Math.max(1, result.lipschitzUpperBound);
      const exact = exactW1(trainP, trainQ).w1;
      expect(exact).toBeCloseTo(NORM_D, 9);
      expect(onTrain).toBeLessThanOrEqual(exact + 1e-4);
      expect(onTrain).toBeGreaterThan(0.95 * exact);
    } finally {
      f.dispose();
    }
  });

  it('the evaluation does not leak and rejects bad counts', async () => {
    const base = gaussianBlobs({ count: 50, centers: [[0, 0, 0, 0]], std: 1, seed: 1 });
    const f = critic(1);
    try {
      const p = pointCloudSampler(base);
      await expectNoLeaks(() => criticGapOnSamples(f, p, p, { pairs: 100, batchSize: 32 }));
      await expect(estimateW1({ critic: f, p, q: p, inputShape: [DIM], steps: 0 })).rejects.toThrow(/^estimateW1: steps must be a positive integer, got 0/);
      expect(() => pointCloudSampler(base, [3])).toThrow(/shape \[3\] does not hold 4 values per point/);
      expect(() => pointCloudRows(base, 45, 10)).toThrow(/rows 45\.\.54 are outside 0\.\.49/);
      const sample = p(5, new SeededRandom(0));
      expect(sample.shape).toEqual([5, 4]);
      sample.dispose();
    } finally {
      f.dispose();
    }
  });
});
