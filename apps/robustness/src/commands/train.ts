import { appendFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ProgressBar, formatDuration, writeJsonAtomic, prepareCliBackend } from '@lipschitz/app-kit';
import type { BackendName } from '@lipschitz/backends';

import { multiMarginLoss } from '@lipschitz/certify';
import { LipschitzError } from '@lipschitz/core';
import {
  EMPTY_RUN_STATUS,
  type EpochMetrics,
  type RunStartMessages,
  type TrainProgressEvent,
  openRunDirectory,
  planRunStart,
  readRunStatus,
  train,
} from '@lipschitz/train';
import type * as tf from '@tensorflow/tfjs-core';
import { removeEvaluations } from '../evaluations';
import {
  type ExperimentConfig,
  assertResumableAugment,
  buildModel,
  defaultEpsilons,
  inputShapeOf,
  loadDataset,
  scheduleOf,
  settleRetractionSteps,
  settleSchedule,
  trainingBatcher,
} from '../experiment';
import { convSpectra } from '../spectra';

/**
 * `DIR/losses.jsonl`: one `{ step, epoch, loss }` line per logged training step (every step of a short run,
 * every 10th of a long one). Append-only: after a resume a step may appear twice; the last line wins.
 */
export const LOSS_LOG = 'losses.jsonl';

export interface TrainCommandOptions {
  config: ExperimentConfig;
  out: string;
  backend: BackendName;
  resume: boolean;
  force: boolean;
  /** Print progress (default true). */
  quiet?: boolean;
}

/** The refusals of `robustness train` (its flags), for the run session's decision. */
const CLI_START_MESSAGES: RunStartMessages = {
  finished: (out) => `${out} holds a finished run; pass --force to train it again from scratch, or choose another --out.`,
  inProgress: (out) => `${out} holds an unfinished run; pass --resume to continue it or --force to start over.`,
  nothingToResume: (out) => `--resume: ${out} has no run to resume (no config.json).`,
};

function describeMetrics(m: EpochMetrics): string {
  const parts = [`epoch ${m.epoch}`];
  if (m.trainLoss != null) parts.push(`loss ${m.trainLoss.toFixed(4)}`);
  if (m.testAccuracy != null) parts.push(`test acc ${(100 * m.testAccuracy).toFixed(2)}%`);
  for (const [eps, acc] of Object.entries(m.certified ?? {})) parts.push(`certified@${eps} ${(100 * acc).toFixed(2)}%`);
  parts.push(`(${formatDuration(m.epochMs)})`);
  return parts.join(', ');
}

/**
 * `robustness train`: the reference protocol (Adam, exponential schedule per epoch — or the compressed one of
 * `--schedule compressed`, see {@link scheduleOf} —, hinge loss with margin
 * √2·ε, evaluation with cached kernels every epoch, best checkpoint kept). Writes DIR/config.json,
 * DIR/checkpoints/, DIR/metrics.jsonl, DIR/summary.json (via @lipschitz/train), DIR/spectra-init.json and
 * DIR/losses.jsonl ({@link LOSS_LOG}).
 */
export async function trainCommand({ config: requested, out, backend, resume, force, quiet = false }: TrainCommandOptions): Promise<void> {
  const config: ExperimentConfig = { ...requested };
  // The run session of @lipschitz/train decides (the same rule train() applies), in the CLI's words.
  const store = existsSync(out) ? await openRunDirectory(out) : null;
  const status = store ? await readRunStatus(store) : EMPTY_RUN_STATUS;
  const start = planRunStart(status, { resume, overwrite: force && !resume, epochs: config.epochs, resumeNeedsRun: true }, out, CLI_START_MESSAGES);
  const stored = start === 'resume' && store ? (((await store.readConfig())?.experiment as ExperimentConfig | undefined) ?? null) : undefined;
  if (start === 'resume') assertResumableAugment(stored ?? undefined, config);
  // A resumed run keeps its schedule (config.json); a conflicting --schedule is refused.
  settleSchedule(config, start === 'resume' ? (stored ?? {}) : undefined);
  if (start === 'resume') settleRetractionSteps(config, stored ?? {}, requested.retractionSteps !== undefined);
  const prepared = await prepareCliBackend(backend);
  // The evaluations and loss log of the run being replaced describe a model that no longer exists.
  if (force && !resume) {
    removeEvaluations(out);
    rmSync(join(out, LOSS_LOG), { force: true });
  }
  const log = (line: string) => {
    if (!quiet) process.stderr.write(`${line}\n`);
  };
  log(`backend: ${prepared.backend} (${prepared.reason})`);
  const data = await loadDataset(config);
  const inputShape = inputShapeOf(config.dataset);
  const model = buildModel(config);
  try {
    if (!resume || !existsSync(join(out, 'spectra-init.json'))) {
      const spectra = convSpectra(await model.exportLayers(inputShape), inputShape);
      await writeJsonAtomic(join(out, 'spectra-init.json'), { spectra });
    }
    const epsilons = defaultEpsilons(config.dataset).map((e) => e.value);
    const controller = new AbortController();
    const onSignal = () => controller.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const trainCount = Math.min(config.trainLimit ?? data.train.count, data.train.count);
    const stepsPerEpoch = Math.ceil(trainCount / config.batchSize);
    const bar = quiet ? null : new ProgressBar('train', stepsPerEpoch * config.epochs);
    let lastLoss = Number.NaN;
    // The training loss of every `lossEvery`-th step, for the report's loss curve (a short run logs every step).
    const lossEvery = stepsPerEpoch >= 100 ? 10 : 1;
    mkdirSync(out, { recursive: true });
    const onProgress = (event: TrainProgressEvent) => {
      if (event.loss !== undefined) {
        lastLoss = event.loss;
        if (event.type === 'step') appendFileSync(join(out, LOSS_LOG), `${JSON.stringify({ step: event.step, epoch: event.epoch, loss: event.loss })}\n`);
      }
      if (event.type === 'step') {
        bar?.update(event.step, `epoch ${event.epoch}/${config.epochs} loss ${Number.isNaN(lastLoss) ? "…" : lastLoss.toFixed(4)} lr ${event.lr.toExponential(2)}`, event.totalSteps);
      } else if (event.type === 'epoch' && event.metrics) {
        bar?.log(describeMetrics(event.metrics as EpochMetrics));
      }
    };
    let result: Awaited<ReturnType<typeof train>>;
    try {
      result = await train({
        model,
        trainSet: data.train,
        testSet: data.test,
        loss: (logits: tf.Tensor, labels: tf.Tensor) => multiMarginLoss(logits, labels, { epsilon: config.lossEpsilon }),
        optimizer: { kind: 'adam', learningRate: config.lr },
        schedule: scheduleOf(config),
        epochs: config.epochs,
        batchSize: config.batchSize,
        seed: config.seed,
        batcher: trainingBatcher(config),
        runDir: out,
        resume,
        overwrite: force && !resume,
        trainLimit: config.trainLimit,
        testLimit: config.testLimit,
        epsilons,
        lossEvery,
        onProgress,
        signal: controller.signal,
        ...(config.timeBudgetSeconds !== undefined ? { timeBudgetMs: config.timeBudgetSeconds * 1000 } : {}),
        config: { experiment: config, backend: prepared.backend },
      });
    } finally {
      bar?.stop();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    if (result.status === 'aborted') {
      throw new LipschitzError('IO_ERROR', `training interrupted after step ${result.steps}; the latest checkpoint is saved: continue with --resume.`);
    }
    const best = result.best;
    log(
      `trained ${result.epochs} epoch(s), ${result.steps} steps in ${formatDuration(result.elapsedMs)}` +
        (best ? `; best epoch ${best.epoch}: test accuracy ${(100 * (best.testAccuracy ?? 0)).toFixed(2)}%` : ''),
    );
  } finally {
    model.dispose();
  }
}
