import type { Checkpoint } from './checkpoint';

/** The two checkpoints a run keeps: the most recent one, and the one with the best test accuracy. */
export type CheckpointSlot = 'latest' | 'best';

/**
 * Where a training run keeps its files. `train()` writes through this interface only, so the loop runs the
 * same in a browser ({@link memoryRunStore}) and in Node (`openRunDirectory`, which writes `config.json`,
 * `checkpoints/`, `metrics.jsonl` and `summary.json` atomically).
 *
 * Contract: `saveCheckpoint` is atomic (after a crash, `loadCheckpoint` returns either the previous or the
 * new checkpoint, never a mix) and leaves the previous checkpoint intact when it throws.
 */
export interface RunStore {
  /** Human-readable location, for messages (a directory path, or `memory`). */
  readonly location: string;
  readConfig(): Promise<Record<string, unknown> | null>;
  writeConfig(config: Record<string, unknown>): Promise<void>;
  loadCheckpoint(slot: CheckpointSlot): Promise<Checkpoint | null>;
  saveCheckpoint(slot: CheckpointSlot, checkpoint: Checkpoint): Promise<void>;
  /** Appends one metrics record (one JSON line). */
  appendMetrics(record: Record<string, unknown>): Promise<void>;
  /** Replaces all metrics records (used on resume, so the file matches the checkpoint's history). */
  writeMetrics(records: readonly Record<string, unknown>[]): Promise<void>;
  readSummary(): Promise<Record<string, unknown> | null>;
  writeSummary(summary: Record<string, unknown>): Promise<void>;
  /** Removes everything this store holds (starting a run over). */
  clear(): Promise<void>;
}

/** The in-memory contents of a {@link memoryRunStore}, for inspection. */
export interface MemoryRunStore extends RunStore {
  readonly metrics: readonly Record<string, unknown>[];
}

function cloneJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function cloneCheckpoint(checkpoint: Checkpoint): Checkpoint {
  return { manifest: cloneJson(checkpoint.manifest), weights: checkpoint.weights.slice(0) };
}

/**
 * A {@link RunStore} that keeps everything in memory (copies, so later changes to the saved objects do not
 * leak in): the default of `train()` without `runDir`, and the way to checkpoint and resume in a browser
 * (keep the store object, pass it again with `resume: true`).
 *
 * @example
 * ```ts
 * const store = memoryRunStore();
 * await train({ ..., epochs: 2, store });
 * await train({ ..., epochs: 4, store, resume: true }); // continues at epoch 3
 * ```
 */
export function memoryRunStore(): MemoryRunStore {
  let config: Record<string, unknown> | null = null;
  let summary: Record<string, unknown> | null = null;
  let metrics: Record<string, unknown>[] = [];
  const checkpoints = new Map<CheckpointSlot, Checkpoint>();
  return {
    location: 'memory',
    get metrics() {
      return metrics;
    },
    readConfig: async () => (config ? cloneJson(config) : null),
    writeConfig: async (value) => {
      config = cloneJson(value);
    },
    loadCheckpoint: async (slot) => {
      const found = checkpoints.get(slot);
      return found ? cloneCheckpoint(found) : null;
    },
    saveCheckpoint: async (slot, checkpoint) => {
      checkpoints.set(slot, cloneCheckpoint(checkpoint));
    },
    appendMetrics: async (record) => {
      metrics = [...metrics, cloneJson(record)];
    },
    writeMetrics: async (records) => {
      metrics = records.map(cloneJson);
    },
    readSummary: async () => (summary ? cloneJson(summary) : null),
    writeSummary: async (value) => {
      summary = cloneJson(value);
    },
    clear: async () => {
      config = null;
      summary = null;
      metrics = [];
      checkpoints.clear();
    },
  };
}
