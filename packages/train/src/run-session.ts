import { LipschitzError, type LipschitzModule, SeededRandom, type SeededRandomState } from '@lipschitz/core';
import type * as tf from '@tensorflow/tfjs-core';
import { type Checkpoint, captureCheckpoint, restoreCheckpoint } from './checkpoint';
import type { EpochMetrics } from './progress';
import type { CheckpointSlot, RunStore } from './run-store';

/** What a {@link RunStore} holds, as {@link readRunStatus} finds it. */
export interface RunStatus {
  /** `empty`: nothing; `in-progress`: a config or a checkpoint but no finished summary; `finished`. */
  state: 'empty' | 'in-progress' | 'finished';
  /** The store holds a `config.json` (or its in-memory equivalent). */
  hasConfig: boolean;
  /** The latest checkpoint, or `null`. */
  latest: Checkpoint | null;
  /** Epochs completed by the latest checkpoint, or `null` without one. */
  latestEpoch: number | null;
}

/** How a run starts, as decided by {@link planRunStart}. */
export type RunStart = 'new' | 'resume' | 'overwrite';

/** What the caller asked for. */
export interface RunStartRequest {
  resume: boolean;
  overwrite: boolean;
  /** Total epochs of the run (a finished run may be resumed to more epochs). */
  epochs: number;
  /** Refuse `resume` on a store that holds nothing (the CLI's `--resume`); default false: start a new run. */
  resumeNeedsRun?: boolean;
}

/** The refusals of {@link planRunStart}, in the caller's words (the library's options or the CLI's flags). */
export interface RunStartMessages {
  finished(location: string): string;
  inProgress(location: string): string;
  nothingToResume(location: string): string;
}

/** The messages of `train()` (its option names). */
export const TRAIN_START_MESSAGES: RunStartMessages = Object.freeze({
  finished: (location: string) =>
    `train: ${location} holds a finished run. Pass overwrite: true to start over, a new run directory, or resume: true with more epochs.`,
  inProgress: (location: string) => `train: ${location} holds a run in progress. Pass resume: true to continue it or overwrite: true to start over.`,
  nothingToResume: (location: string) => `train: ${location} holds no run to resume. Start a new run without resume: true.`,
});

/** The loop state saved in every checkpoint: enough to continue exactly. */
export interface LoopState extends Record<string, unknown> {
  /** Completed epochs. */
  epoch: number;
  /** Batches already done in epoch `epoch + 1`. */
  batchInEpoch: number;
  step: number;
  /** Shuffle seed of epoch `epoch + 1` when it is under way. */
  epochSeed: number | null;
  rngState: SeededRandomState;
  /** float32 sum of the losses of the batches done in the current epoch. */
  epochLossSum: number;
  elapsedMs: number;
  epochElapsedMs: number;
  best: { epoch: number; testAccuracy: number } | null;
  history: EpochMetrics[];
}

/** The settings a resumed run must share with the original for the continuation to be exact. */
export const RESUME_KEYS = ['model', 'optimizer', 'batchSize', 'seed', 'trainLimit', 'trainCount'] as const;

/**
 * Reads what a run store holds: its config, summary and latest checkpoint.
 *
 * Throws what the store throws (`IO_ERROR`, `CORRUPT_DATA` for a damaged checkpoint).
 *
 * @example
 * ```ts
 * const status = await readRunStatus(await openRunDirectory('runs/a'));
 * if (status.state === 'finished') console.log('done');
 * ```
 */
export async function readRunStatus(store: RunStore): Promise<RunStatus> {
  const [config, summary, latest] = [await store.readConfig(), await store.readSummary(), await store.loadCheckpoint('latest')];
  const latestEpoch = latest ? Number((latest.manifest.meta as Partial<LoopState>).epoch) : null;
  const state = summary?.status === 'finished' ? 'finished' : config || latest ? 'in-progress' : 'empty';
  return { state, hasConfig: config != null, latest, latestEpoch };
}

/** The status of a run directory that does not exist yet. */
export const EMPTY_RUN_STATUS: RunStatus = Object.freeze({ state: 'empty', hasConfig: false, latest: null, latestEpoch: null });

/**
 * Decides how a run starts from what its store holds and what the caller asked for — the one place where
 * `train()` and the CLI decide it:
 *
 * - `overwrite` → `'overwrite'` (the store is cleared first);
 * - a finished run → refused, unless `resume` asks for more epochs than its latest checkpoint has;
 * - a run in progress without `resume` → refused;
 * - `resume` with a latest checkpoint → `'resume'`; without one → `'new'` (or refused with `resumeNeedsRun`
 *   when the store holds nothing at all);
 * - otherwise `'new'`.
 *
 * Throws `ALREADY_EXISTS` (finished, in progress) or `NOT_FOUND` (nothing to resume) with `messages`'
 * wording, `INVALID_ARGUMENT` when both `resume` and `overwrite` are set.
 *
 * @example
 * ```ts
 * const start = planRunStart(await readRunStatus(store), { resume: true, overwrite: false, epochs: 10 }, store.location);
 * ```
 */
export function planRunStart(status: RunStatus, request: RunStartRequest, location: string, messages: RunStartMessages = TRAIN_START_MESSAGES): RunStart {
  if (request.resume && request.overwrite) {
    throw new LipschitzError('INVALID_ARGUMENT', 'planRunStart: resume and overwrite exclude each other. Pass one of them.');
  }
  if (request.overwrite) return 'overwrite';
  if (status.state === 'finished' && !(request.resume && status.latestEpoch !== null && status.latestEpoch < request.epochs)) {
    throw new LipschitzError('ALREADY_EXISTS', messages.finished(location));
  }
  if (status.state === 'in-progress' && !request.resume) throw new LipschitzError('ALREADY_EXISTS', messages.inProgress(location));
  if (request.resume && status.latest) return 'resume';
  if (request.resume && request.resumeNeedsRun && !status.hasConfig) throw new LipschitzError('NOT_FOUND', messages.nothingToResume(location));
  return 'new';
}

/** The checkpoints a run has committed so far: what survives a failed write. */
export interface SavedRunState {
  latest: { epoch: number; step: number } | null;
  bestEpoch: number | null;
}

/**
 * One sentence saying what a run's store holds after a failed write, and what to do: resume from the
 * intact latest checkpoint, or start again when the run has none yet.
 */
export function describeSavedRun(saved: SavedRunState): string {
  const best = saved.bestEpoch === null ? '' : ` The best checkpoint holds epoch ${saved.bestEpoch}.`;
  if (!saved.latest) {
    return `The run has no latest checkpoint yet, so there is nothing to resume: fix the cause (e.g. free disk space) and start it again.${best}`;
  }
  return `The latest checkpoint (step ${saved.latest.step}, ${saved.latest.epoch} epoch(s) completed) is intact, and a resume rewrites the metrics to match it: fix the cause (e.g. free disk space) and resume.${best}`;
}

/** An opened training run: the store, the loop state, the shuffle RNG and what has been committed. */
export interface RunSession {
  readonly store: RunStore;
  readonly state: LoopState;
  readonly rng: SeededRandom;
  /** True when the run continues from a checkpoint. */
  readonly resumed: boolean;
  /** Captures the model, optimizer and loop state, and writes the checkpoint to `slots` (best first). */
  save(slots: readonly CheckpointSlot[], epoch: number, elapsedMs: number): Promise<void>;
  /** Appends one metrics line; a failure says what the run still holds. */
  appendMetrics(metrics: EpochMetrics): Promise<void>;
  /** Writes the run's summary; a failure says what the run still holds. */
  writeSummary(summary: Record<string, unknown>): Promise<void>;
}

/** Options of {@link openRunSession}. */
export interface OpenRunSessionOptions {
  store: RunStore;
  model: LipschitzModule;
  /** A fresh optimizer; restored from the latest checkpoint on resume. */
  optimizer: tf.Optimizer;
  /** What `config.json` records (must contain the {@link RESUME_KEYS}). */
  config: Record<string, unknown>;
  request: RunStartRequest;
  /** Seed of the shuffle RNG of a new run. */
  seed: number;
  /** The `summary.json` written while the run is under way. */
  runningSummary: Record<string, unknown>;
}

/**
 * Opens a training run in its store: decides new / resume / overwrite ({@link planRunStart}), checks that a
 * resumed run keeps the settings that make the continuation exact ({@link RESUME_KEYS}), restores the model
 * and optimizer from the latest checkpoint, rewrites `metrics.jsonl` from it, and writes `config.json` and a
 * `running` summary. Every later write goes through the returned session, whose failures (`IO_ERROR`) say
 * honestly which checkpoint survives ({@link describeSavedRun}).
 *
 * Ownership: borrows the model and optimizer. Throws as {@link planRunStart}, `INVALID_ARGUMENT` for a
 * resume with other settings, and what `restoreCheckpoint` and the store throw.
 *
 * @example
 * ```ts
 * const session = await openRunSession({ store, model, optimizer, config, request, seed: 0, runningSummary });
 * ```
 */
export async function openRunSession(options: OpenRunSessionOptions): Promise<RunSession> {
  const { store, model, optimizer, config, request, seed } = options;
  const start = planRunStart(await readRunStatus(store), request, store.location);
  if (start === 'overwrite') await store.clear();
  const latest = start === 'resume' ? await store.loadCheckpoint('latest') : null;
  let state: LoopState;
  let rng: SeededRandom;
  if (latest) {
    const previous = await store.readConfig();
    if (previous) {
      for (const key of RESUME_KEYS) {
        if (JSON.stringify(previous[key]) !== JSON.stringify(config[key])) {
          throw new LipschitzError(
            'INVALID_ARGUMENT',
            `train: cannot resume ${store.location} with ${key} = ${JSON.stringify(config[key])}; the run used ${JSON.stringify(previous[key])}. Pass the same settings or overwrite: true.`,
          );
        }
      }
    }
    await restoreCheckpoint(model, optimizer, latest);
    state = structuredClone(latest.manifest.meta as LoopState);
    rng = SeededRandom.fromState(state.rngState);
  } else {
    rng = new SeededRandom(seed);
    state = {
      epoch: 0,
      batchInEpoch: 0,
      step: 0,
      epochSeed: null,
      rngState: rng.state(),
      epochLossSum: 0,
      elapsedMs: 0,
      epochElapsedMs: 0,
      best: null,
      history: [],
    };
  }
  const saved: SavedRunState = {
    latest: latest ? { epoch: state.epoch, step: state.step } : null,
    bestEpoch: latest ? (state.best?.epoch ?? null) : null,
  };
  const guarded = async <T>(what: string, write: () => Promise<T>): Promise<T> => {
    try {
      return await write();
    } catch (error) {
      if (!LipschitzError.isInstance(error) || error.code !== 'IO_ERROR') throw error;
      throw new LipschitzError('IO_ERROR', `train: could not ${what} (${error.message}). ${describeSavedRun(saved)}`, { cause: error });
    }
  };
  await guarded('start the run', async () => {
    await store.writeMetrics(state.history as unknown as Record<string, unknown>[]);
    await store.writeConfig(config);
    // Until the run finishes, the summary says so (a finished run that is being extended included).
    await store.writeSummary(options.runningSummary);
  });
  return {
    store,
    state,
    rng,
    resumed: latest != null,
    async save(slots, epoch, elapsedMs) {
      state.rngState = rng.state();
      state.elapsedMs = elapsedMs;
      const checkpoint = await captureCheckpoint(model, optimizer, state);
      // Best first: a crash between the two writes then leaves a latest whose `best` matches the best file.
      for (const slot of slots) {
        await guarded(`save the ${slot} checkpoint of epoch ${epoch}`, () => store.saveCheckpoint(slot, checkpoint));
        if (slot === 'latest') saved.latest = { epoch: state.epoch, step: state.step };
        else saved.bestEpoch = state.best?.epoch ?? null;
      }
    },
    appendMetrics: (metrics) => guarded(`append epoch ${metrics.epoch} to the metrics`, () => store.appendMetrics(metrics as unknown as Record<string, unknown>)),
    writeSummary: (summary) => guarded('write the summary', () => store.writeSummary(summary)),
  };
}
