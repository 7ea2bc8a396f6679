import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ProgressBar, formatDuration, prepareCliBackend, writeFileAtomic, writeJsonAtomic } from '@lipschitz/app-kit';
import type { BackendName } from '@lipschitz/backends';
import { LipschitzError, SeededRandom } from '@lipschitz/core';
import { mnist } from '@lipschitz/datasets';
import * as tf from '@tensorflow/tfjs-core';
import { DEFAULT_DISCRIMINATOR, Discriminator } from '../gan/discriminator';
import { Generator, REFERENCE_GENERATOR } from '../gan/generator';
import { DEFAULT_WGAN_GP, WganGpTrainer } from '../gan/wgan-gp';
import { type GanMetric, type GanStage, imageGridPng, renderTrainGanReport } from '../report';

/** Options of {@link trainGanCommand}. */
export interface TrainGanCommandOptions {
  dataset: 'mnist';
  epochs: number;
  out: string;
  /** Generator steps (overrides `epochs`). */
  steps?: number;
  /** Use only the first N training images. */
  trainLimit?: number;
  batchSize?: number;
  /** Critic iterations per generator step (5). */
  nCritic?: number;
  gpWeight?: number;
  /** Channels of the generator's 7×7 map (reference 32). */
  hidden?: number;
  /** Channels of the critic's first conv (the second has twice as many; default 32). */
  criticWidth?: number;
  seed?: number;
  force?: boolean;
  backend: BackendName;
  /** No progress output (tests). */
  quiet?: boolean;
}

/** What `train-gan` writes as DIR/summary.json (last, atomically: its presence means the run finished). */
export interface TrainGanSummary {
  status: 'finished';
  stages: GanStage[];
  generatorSteps: number;
  criticIterations: number;
  epochs: number;
  seconds: number;
  finalCriticObjective: number;
}

/** The generator steps at which stages are saved: `epoch-1` (when the run has more), `mid`, `final`. */
export function stageSchedule(totalSteps: number, stepsPerEpoch: number, byEpochs: boolean): { name: string; step: number }[] {
  const stages: { name: string; step: number }[] = [];
  const early = byEpochs && totalSteps > stepsPerEpoch ? { name: 'epoch-1', step: Math.max(1, stepsPerEpoch) } : { name: 'early', step: Math.max(1, Math.round(totalSteps / 10)) };
  for (const s of [early, { name: 'mid', step: Math.max(1, Math.round(totalSteps / 2)) }, { name: 'final', step: totalSteps }]) {
    if (!stages.some((t) => t.step === s.step)) stages.push(s);
    else if (s.name === 'final') stages[stages.length - 1] = s;
  }
  return stages;
}

/**
 * `wgan train-gan --dataset mnist --epochs N --out DIR`: trains the reference's WGAN-GP generator
 * ({@link Generator}, reference §10) against a LeakyReLU conv critic on MNIST mapped to [−1, 1], with
 * n_critic = 5, Adam(2e-4, 0.5, 0.999), batch 64 and gradient-penalty weight λ (default 10). Saves the
 * generator at several stages (`DIR/generators/<stage>.json`, a 64-sample grid `DIR/samples/<stage>.png`),
 * `DIR/config.json`, `DIR/metrics.json`, `DIR/report.html` and, last, `DIR/summary.json`. Every file is
 * written atomically. Refuses a DIR that holds a finished run unless `force`.
 */
export async function trainGanCommand(options: TrainGanCommandOptions): Promise<TrainGanSummary> {
  const { epochs, out, backend, quiet = false } = options;
  const batchSize = options.batchSize ?? 64;
  const nCritic = options.nCritic ?? 5;
  const seed = options.seed ?? 0;
  const gpWeight = options.gpWeight ?? DEFAULT_WGAN_GP.gpWeight;
  if (options.dataset !== 'mnist') throw new LipschitzError('INVALID_ARGUMENT', `--dataset must be mnist, got ${JSON.stringify(options.dataset)}.`);
  if (existsSync(join(out, 'summary.json')) && !options.force) {
    throw new LipschitzError('ALREADY_EXISTS', `${out} holds a finished GAN run; pass --force to train it again from scratch, or choose another --out.`);
  }
  await rm(join(out, 'summary.json'), { force: true });
  await rm(join(out, 'generators'), { recursive: true, force: true });
  await rm(join(out, 'samples'), { recursive: true, force: true });

  const { train } = await mnist({ trainLimit: options.trainLimit, testLimit: 0 });
  if (train.count < batchSize) {
    throw new LipschitzError('INVALID_ARGUMENT', `--train-limit ${train.count} is smaller than the batch size ${batchSize}; use at least ${batchSize} images.`);
  }
  const pixels = 28 * 28;
  const images = new Float32Array(train.count * pixels);
  for (let i = 0; i < images.length; i++) images[i] = 2 * train.images[i] - 1; // Normalize(0.5, 0.5)
  const iterationsPerEpoch = Math.floor(train.count / batchSize);
  const stepsPerEpoch = iterationsPerEpoch / nCritic;
  const totalSteps = options.steps ?? Math.max(1, Math.floor((epochs * iterationsPerEpoch) / nCritic));
  const stages = stageSchedule(totalSteps, Math.floor(stepsPerEpoch), options.steps === undefined);

  const prepared = await prepareCliBackend(backend);
  const config = {
    command: 'train-gan',
    dataset: 'mnist',
    trainImages: train.count,
    epochs: options.steps === undefined ? epochs : (totalSteps * nCritic) / iterationsPerEpoch,
    generatorSteps: totalSteps,
    batchSize,
    nCritic,
    gpWeight,
    adam: { learningRate: DEFAULT_WGAN_GP.learningRate, beta1: DEFAULT_WGAN_GP.beta1, beta2: DEFAULT_WGAN_GP.beta2 },
    generator: { ...REFERENCE_GENERATOR, hidden: options.hidden ?? REFERENCE_GENERATOR.hidden },
    discriminator: options.criticWidth ? { channels1: options.criticWidth, channels2: 2 * options.criticWidth } : DEFAULT_DISCRIMINATOR,
    range: '[-1, 1] (tanh); real pixels mapped by 2v − 1',
    batchNorm: 'batch statistics, also when sampling (as the reference)',
    seed,
    stages,
    // The backend actually used (`auto` resolves to one), and what was asked for.
    backend: prepared.backend,
    backendRequested: backend,
  };
  await writeJsonAtomic(join(out, 'config.json'), config);
  const rng = new SeededRandom(seed);
  const generator = new Generator(config.generator, seed);
  const critic = new Discriminator(config.discriminator, seed + 1);
  const trainer = new WganGpTrainer(generator, critic, { ...DEFAULT_WGAN_GP, gpWeight });
  const bar = quiet ? null : new ProgressBar('train-gan', totalSteps);
  const metrics: GanMetric[] = [];
  const saved: (GanStage & { png: Uint8Array })[] = [];
  const started = performance.now();
  let order = rng.permutation(train.count);
  let cursor = 0;
  let iterations = 0;
  const nextRealBatch = (): tf.Tensor4D => {
    if (cursor + batchSize > iterationsPerEpoch * batchSize) {
      order = rng.permutation(train.count);
      cursor = 0;
    }
    const values = new Float32Array(batchSize * pixels);
    for (let n = 0; n < batchSize; n++) values.set(images.subarray(order[cursor + n] * pixels, (order[cursor + n] + 1) * pixels), n * pixels);
    cursor += batchSize;
    iterations++;
    return tf.tensor4d(values, [batchSize, 28, 28, 1]);
  };
  try {
    for (let step = 1; step <= totalSteps; step++) {
      let objective = 0;
      let penalty = 0;
      for (let k = 0; k < nCritic; k++) {
        const real = nextRealBatch();
        try {
          const result = await trainer.criticStep(real, rng);
          objective += result.wassersteinEstimate / nCritic;
          penalty += result.gradientPenalty / nCritic;
        } finally {
          real.dispose();
        }
      }
      const generatorLoss = await trainer.generatorStep(batchSize, rng);
      const epoch = iterations / iterationsPerEpoch;
      metrics.push({ step, epoch, criticObjective: objective, gradientPenalty: penalty, generatorLoss, seconds: (performance.now() - started) / 1000 });
      bar?.update(step, `W ${objective.toFixed(3)} gp ${penalty.toFixed(3)} G ${generatorLoss.toFixed(3)} epoch ${epoch.toFixed(2)}`);
      const stage = stages.find((s) => s.step === step);
      if (stage) {
        const file = join('generators', `${stage.name}.json`);
        await writeJsonAtomic(join(out, file), await generator.toCheckpoint({ stage: stage.name, step, epoch, seed, backend: prepared.backend }));
        const grid = generator.generate(64, new SeededRandom(seed + 12345));
        const unit = tf.tidy(() => tf.div(tf.add(grid, 1), 2));
        grid.dispose();
        const png = imageGridPng(await unit.data(), 64, 28);
        unit.dispose();
        const samplesPng = join('samples', `${stage.name}.png`);
        await writeFileAtomic(join(out, samplesPng), png);
        saved.push({ name: stage.name, step, epoch, file, samplesPng, png });
        await writeJsonAtomic(join(out, 'metrics.json'), metrics);
        bar?.log(`saved ${file} (step ${step}, epoch ${epoch.toFixed(2)}, ${formatDuration(performance.now() - started)})`);
      }
    }
  } finally {
    bar?.stop();
    trainer.dispose();
    generator.dispose();
    critic.dispose();
  }
  const seconds = (performance.now() - started) / 1000;
  await writeJsonAtomic(join(out, 'metrics.json'), metrics);
  await writeFileAtomic(join(out, 'report.html'), await renderTrainGanReport({ config, metrics, stages: saved, seconds }));
  const summary: TrainGanSummary = {
    status: 'finished',
    stages: saved.map(({ png: _png, ...s }) => s),
    generatorSteps: totalSteps,
    criticIterations: iterations,
    epochs: iterations / iterationsPerEpoch,
    seconds,
    finalCriticObjective: metrics[metrics.length - 1]?.criticObjective ?? Number.NaN,
  };
  await writeJsonAtomic(join(out, 'summary.json'), summary);
  if (!quiet) {
    process.stdout.write(`trained ${totalSteps} generator steps in ${formatDuration(seconds * 1000)}; generators in ${join(out, 'generators')}\n`);
    process.stdout.write(`report: ${resolve(out, 'report.html')}\n`);
  }
  return summary;
}
