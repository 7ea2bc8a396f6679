import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ProgressBar, formatDuration, prepareCliBackend, readJson, writeFileAtomic, writeJsonAtomic } from '@lipschitz/app-kit';
import type { BackendName } from '@lipschitz/backends';
import { LipschitzError, SeededRandom } from '@lipschitz/core';
import { type ImageSet, mnist } from '@lipschitz/datasets';
import type { ActivationType } from '@lipschitz/layers';
import { type PointCloud, type Sampler, criticGapOnPoints, estimateW1, exactW1 } from '@lipschitz/wasserstein';
import * as tf from '@tensorflow/tfjs-core';
import { Generator, type GeneratorCheckpoint } from '../gan/generator';
import { type Table4Conv, table4Critic } from '../gan/table4-critic';
import { type CompareRow, renderCompareReport } from '../report';

/** Side of the critics' input: MNIST 28×28 zero-padded by 2 pixels on each side. */
export const COMPARE_SIZE = 32;
const PAD = (COMPARE_SIZE - 28) / 2;

/** Options of {@link compareCommand}. */
export interface CompareCommandOptions {
  gan: string;
  out: string;
  critics: Table4Conv[];
  activations: ActivationType[];
  /** Critic training steps (the same for every critic). */
  steps: number;
  /** Fresh held-out pairs of the estimate (reference: 6,400). */
  pairs: number;
  /** Points per side of the exact-W1 sample pair. */
  exactSize: number;
  /** First conv width of the critics (reference DCGAN: 64). */
  width: number;
  stage: string;
  seed: number;
  /** Learning rates per activation (reference: 1e-4 MaxMin, 1e-3 ReLU). */
  learningRates?: Partial<Record<ActivationType, number>>;
  force?: boolean;
  backend: BackendName;
  quiet?: boolean;
}

/** What `compare` writes as DIR/compare.json. */
export interface CompareFile {
  status: 'running' | 'finished';
  exactW1: number;
  exactSize: number;
  rows: CompareRow[];
  settings: Record<string, unknown>;
  /** Whether the paper's orderings held for each activation / each conv (null when not all critics ran). */
  claims: { bcopOverRkoOverOssn: Record<string, boolean | null>; maxMinOverRelu: Record<string, boolean | null> };
}

/** Copies MNIST image `index` (28×28, [0, 1]) into row `row` of a 32×32 buffer (zero border). */
function padInto(set: ImageSet, index: number, target: Float32Array, row: number): void {
  const base = row * COMPARE_SIZE * COMPARE_SIZE;
  for (let y = 0; y < 28; y++) {
    const src = index * 784 + y * 28;
    target.set(set.images.subarray(src, src + 28), base + (y + PAD) * COMPARE_SIZE + PAD);
  }
}

/** A sampler of real MNIST images (uniform with replacement), zero-padded to 32×32×1, pixels in [0, 1]. */
export function mnistSampler(set: ImageSet): Sampler {
  return (count, rng) => {
    const values = new Float32Array(count * COMPARE_SIZE * COMPARE_SIZE);
    for (let n = 0; n < count; n++) padInto(set, rng.int(set.count), values, n);
    return tf.tensor4d(values, [count, COMPARE_SIZE, COMPARE_SIZE, 1]);
  };
}

/**
 * A sampler of generated images from fresh codes (batches of 64 with batch-statistics BatchNorm, as the
 * reference), mapped from [−1, 1] to the real data's [0, 1] by `(x + 1)/2` and zero-padded to 32×32×1.
 */
export function generatorSampler(generator: Generator): Sampler {
  return (count, rng) => {
    const images = generator.generate(Math.max(2, count), rng);
    return tf.tidy(() => {
      const unit = tf.div(tf.add(count === 1 ? tf.slice(images, 0, 1) : images, 1), 2);
      images.dispose();
      return tf.pad(unit, [
        [0, 0],
        [PAD, PAD],
        [PAD, PAD],
        [0, 0],
      ]);
    });
  };
}

async function pointCloudOf(sampler: Sampler, count: number, rng: SeededRandom): Promise<PointCloud> {
  const dim = COMPARE_SIZE * COMPARE_SIZE;
  const points = new Float32Array(count * dim);
  for (let done = 0; done < count; done += 64) {
    const size = Math.min(64, count - done);
    const t = sampler(size, rng);
    points.set(await t.data(), done * dim);
    t.dispose();
  }
  return { points, count, dim };
}

/** Whether `order` is strictly decreasing in estimate (null when a member is missing). */
function strictlyDecreasing(values: (number | undefined)[]): boolean | null {
  if (values.some((v) => v === undefined)) return null;
  return values.every((v, i) => i === 0 || (values[i - 1] as number) > (v as number));
}

/**
 * `wgan compare --gan DIR --out DIR`: the paper's Table 4 on our generator. For every critic type × activation
 * it trains the {@link table4Critic} the same number of RMSprop steps on real MNIST (train split) against
 * fresh generated samples (reference lr 1e-4 MaxMin, 1e-3 ReLU; exponential decay 0.96235 per 100 steps),
 * estimates W1 on `pairs` fresh held-out pairs (real from the MNIST test split), and beside it computes the
 * exact W1 of a fixed pair of `exactSize` real (test split) and generated images, with each critic's gap on
 * those same samples (divided by max(1, L); it must not exceed the exact value). Writes DIR/compare.json
 * (atomically, after each critic) and DIR/report.html. Refuses a finished DIR unless `force`.
 */
export async function compareCommand(options: CompareCommandOptions): Promise<CompareFile> {
  const { gan, out, critics, activations, steps, pairs, exactSize, width, stage, seed, backend, quiet = false } = options;
  const checkpointPath = join(gan, 'generators', `${stage}.json`);
  if (!existsSync(gan)) throw new LipschitzError('NOT_FOUND', `--gan ${gan} does not exist; train a generator first with \`wgan train-gan --out ${gan}\`.`);
  if (!existsSync(checkpointPath)) {
    throw new LipschitzError('NOT_FOUND', `--gan ${gan} has no generators/${stage}.json; run \`wgan train-gan --out ${gan}\` first or pick another --stage.`);
  }
  if (existsSync(join(out, 'compare.json')) && !options.force) {
    const previous = await readJson<CompareFile>(join(out, 'compare.json'), 'compare file');
    if (previous.status === 'finished') throw new LipschitzError('ALREADY_EXISTS', `${out} holds a finished comparison; pass --force to run it again, or choose another --out.`);
  }
  if (exactSize < 2) throw new LipschitzError('INVALID_ARGUMENT', `--exact-size must be at least 2, got ${exactSize}.`);
  const checkpoint = await readJson<GeneratorCheckpoint>(checkpointPath, 'generator checkpoint');
  const { train, test } = await mnist();
  if (exactSize > test.count) throw new LipschitzError('INVALID_ARGUMENT', `--exact-size must be at most ${test.count} (the MNIST test split).`);
  const prepared = await prepareCliBackend(backend);
  const generator = Generator.fromCheckpoint(checkpoint, checkpointPath);
  const learningRates = { maxmin: 1e-4, relu: 1e-3, ...options.learningRates };
  const settings = {
    gan,
    stage,
    generatorMetadata: checkpoint.metadata,
    critics,
    activations,
    steps,
    pairs,
    exactSize,
    width,
    criticChannels: [width, 2 * width, 4 * width, 8 * width],
    inputShape: [COMPARE_SIZE, COMPARE_SIZE, 1],
    range: '[0, 1] for both (generated (x + 1)/2), MNIST zero-padded 28 → 32',
    learningRates,
    optimizer: 'RMSprop (alpha 0.99), exponential decay 0.96235062639 per 100 steps, batch 64',
    realTraining: 'MNIST train split (60,000)',
    realHeldOut: 'MNIST test split (10,000)',
    seed,
    backend: prepared.backend,
  };
  const started = performance.now();
  try {
    const realExact = await pointCloudOf(mnistSampler(test), exactSize, new SeededRandom(seed + 777));
    const generatedExact = await pointCloudOf(generatorSampler(generator), exactSize, new SeededRandom(seed + 778));
    const exactStarted = performance.now();
    const exact = exactW1(realExact, generatedExact).w1;
    if (!quiet) process.stderr.write(`exact W1 of ${exactSize} + ${exactSize} samples: ${exact.toFixed(4)} (${formatDuration(performance.now() - exactStarted)})\n`);
    const rows: CompareRow[] = [];
    const file = (status: CompareFile['status']): CompareFile => {
      const estimate = (conv: string, activation: string) => rows.find((r) => r.conv === conv && r.activation === activation)?.estimate;
      return {
        status,
        exactW1: exact,
        exactSize,
        rows,
        settings: { ...settings, seconds: (performance.now() - started) / 1000 },
        claims: {
          bcopOverRkoOverOssn: Object.fromEntries(activations.map((a) => [a, strictlyDecreasing(['bcop', 'rko', 'ossn'].map((c) => estimate(c, a)))])),
          maxMinOverRelu: Object.fromEntries(critics.map((c) => [c, strictlyDecreasing([estimate(c, 'maxmin'), estimate(c, 'relu')])])),
        },
      };
    };
    const shape = [COMPARE_SIZE, COMPARE_SIZE, 1];
    let index = 0;
    for (const conv of critics) {
      for (const activation of activations) {
        index++;
        const label = `${conv}/${activation} (${index}/${critics.length * activations.length})`;
        const bar = quiet ? null : new ProgressBar(label, steps);
        const critic = table4Critic({ conv, activation, width, seed });
        try {
          const lr = learningRates[activation];
          const result = await estimateW1({
            critic,
            p: mnistSampler(train),
            q: generatorSampler(generator),
            inputShape: shape,
            steps,
            seed,
            optimizer: { kind: 'rmsprop', learningRate: lr },
            evaluation: { p: mnistSampler(test), q: generatorSampler(generator), pairs },
            onProgress: (e) => bar?.update(e.step, `objective ${e.objective.toFixed(4)}`),
          });
          bar?.stop();
          const scale = Math.max(1, result.lipschitzUpperBound);
          const gap = (await criticGapOnPoints(critic, realExact, generatedExact, { shape })) / scale;
          rows.push({
            conv,
            activation,
            estimate: result.estimate,
            rawEstimate: result.rawEstimate,
            lipschitzUpperBound: result.lipschitzUpperBound,
            gapOnExactSamples: gap,
            withinExact: gap <= exact,
            learningRate: lr,
            steps,
            seconds: result.elapsedMs / 1000,
            history: result.history,
          });
          if (!quiet) {
            process.stderr.write(
              `${conv}/${activation}: estimate ${result.estimate.toFixed(4)}, gap on exact samples ${gap.toFixed(4)} ≤ exact ${exact.toFixed(4)}: ${gap <= exact} (L ≤ ${result.lipschitzUpperBound.toFixed(6)}, ${formatDuration(result.elapsedMs)})\n`,
            );
          }
          await writeJsonAtomic(join(out, 'compare.json'), file('running'));
        } finally {
          bar?.stop();
          critic.dispose();
        }
      }
    }
    const result = file('finished');
    await writeFileAtomic(join(out, 'report.html'), await renderCompareReport({ rows, exactW1: exact, exactSize, settings: result.settings }));
    await writeJsonAtomic(join(out, 'compare.json'), result);
    if (!quiet) {
      for (const r of rows) process.stdout.write(`${r.conv}\t${r.activation}\t${r.estimate.toFixed(4)}\t(gap on exact samples ${r.gapOnExactSamples.toFixed(4)})\n`);
      process.stdout.write(`exact W1 (n = ${exactSize}): ${exact.toFixed(4)}\n`);
    }
    return result;
  } finally {
    generator.dispose();
  }
}
