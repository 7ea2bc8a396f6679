import { ProgressBar, prepareCliBackend, writeJsonAtomic } from '@lipschitz/app-kit';
import type { BackendName } from '@lipschitz/backends';
import { LipschitzError } from '@lipschitz/core';
import type { ActivationType } from '@lipschitz/layers';
import { criticGapOnPoints, estimateW1, npyToPointCloud, pointCloudRows, pointCloudSampler, readNpy } from '@lipschitz/wasserstein';
import { type CriticType, buildCritic } from '../critic';

export interface EstimateCommandOptions {
  a: string;
  b: string;
  critic: CriticType;
  activation: ActivationType;
  steps: number;
  seed: number;
  out?: string;
  lr?: number;
  shape?: number[];
  heldOutFraction: number;
  backend: BackendName;
}

/**
 * `wgan estimate`: trains a 1-Lipschitz critic on the first part of both sets and reports the KR estimate on
 * the training rows and on the held-out rest, each divided by the critic's sound bound when it exceeds 1.
 */
export async function estimateCommand(options: EstimateCommandOptions): Promise<Record<string, unknown>> {
  const { a, b, critic: criticType, activation, steps, seed, out, heldOutFraction, backend } = options;
  const setA = npyToPointCloud(await readNpy(a), a);
  const setB = npyToPointCloud(await readNpy(b), b);
  if (setA.dim !== setB.dim) {
    throw new LipschitzError('SHAPE_MISMATCH', `${a} has points of dimension ${setA.dim} but ${b} has ${setB.dim}; they must match.`);
  }
  const shape = options.shape ?? [setA.dim];
  if (shape.reduce((x, y) => x * y, 1) !== setA.dim) {
    throw new LipschitzError('INVALID_ARGUMENT', `--shape ${shape.join('x')} does not hold ${setA.dim} values per point.`);
  }
  const split = (count: number) => Math.max(1, Math.min(count - 1, Math.round(count * (1 - heldOutFraction))));
  const trainA = pointCloudRows(setA, 0, split(setA.count));
  const trainB = pointCloudRows(setB, 0, split(setB.count));
  const heldA = pointCloudRows(setA, trainA.count, setA.count - trainA.count);
  const heldB = pointCloudRows(setB, trainB.count, setB.count - trainB.count);
  await prepareCliBackend(backend);
  const critic = buildCritic(criticType, activation, shape, seed);
  const bar = new ProgressBar('critic', steps);
  try {
    const lr = options.lr ?? (activation === 'relu' ? 1e-3 : 1e-4);
    const result = await estimateW1({
      critic,
      p: pointCloudSampler(trainA, shape),
      q: pointCloudSampler(trainB, shape),
      inputShape: shape,
      steps,
      seed,
      optimizer: { kind: 'rmsprop', learningRate: lr },
      onProgress: (e) => bar.update(e.step, `objective ${e.objective.toFixed(4)} lr ${e.lr.toExponential(2)}`),
    });
    bar.stop();
    const bound = result.lipschitzUpperBound;
    const scale = Math.max(1, bound);
    const train = (await criticGapOnPoints(critic, trainA, trainB, { shape })) / scale;
    const heldOut = (await criticGapOnPoints(critic, heldA, heldB, { shape })) / scale;
    const report = {
      train,
      heldOut,
      lipschitzUpperBound: bound,
      critic: criticType,
      activation,
      steps,
      seed,
      learningRate: lr,
      trainPoints: [trainA.count, trainB.count],
      heldOutPoints: [heldA.count, heldB.count],
      history: result.history,
      seconds: result.elapsedMs / 1000,
    };
    if (out) await writeJsonAtomic(out, report);
    process.stdout.write(`W1 estimate: train ${train.toFixed(6)}, held-out ${heldOut.toFixed(6)} (critic bound ${bound.toPrecision(8)})\n`);
    return report;
  } finally {
    bar.stop();
    critic.dispose();
  }
}
