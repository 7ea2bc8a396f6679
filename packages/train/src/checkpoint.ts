import { LipschitzError, type LipschitzModule, type ModuleConfig } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';

type NamedTensor = { name: string; tensor: tf.Tensor };

/** Format tag of {@link CheckpointManifest}. */
export const CHECKPOINT_FORMAT = 'lipschitz-train-checkpoint/1';

/** Where each tensor of a checkpoint comes from. */
export type CheckpointTensorRole = 'trainable' | 'state' | 'optimizer' | 'optimizerInternal';

/** One tensor in the checkpoint's binary, in order. */
export interface CheckpointTensorEntry {
  role: CheckpointTensorRole;
  /** For `optimizer` entries: the name tfjs's `getWeights()` gave it; otherwise the variable's index. */
  name: string;
  /** The entry in `tf.io.encodeWeights`'s manifest (name, shape, dtype). */
  spec: tf.io.WeightsManifestEntry;
}

/**
 * A checkpoint: a JSON manifest plus one binary of little-endian tensor data (`tf.io.encodeWeights`
 * layout). `meta` is free-form JSON owned by the caller (`train()` stores its loop state there).
 */
export interface Checkpoint<Meta = Record<string, unknown>> {
  manifest: CheckpointManifest<Meta>;
  /** The concatenated tensor bytes described by `manifest.tensors`. */
  weights: ArrayBuffer;
}

/** The JSON half of a {@link Checkpoint}. */
export interface CheckpointManifest<Meta = Record<string, unknown>> {
  format: typeof CHECKPOINT_FORMAT;
  /** The model's `name`. */
  modelName: string;
  /**
   * The model's architecture (`model.config`), when the module has one; `restoreCheckpoint` refuses a model
   * whose configuration differs (seeds aside). Absent in checkpoints written before state variables were
   * saved (see {@link restoreCheckpoint}).
   */
  modelConfig?: ModuleConfig | null;
  /** tfjs class name of the optimizer (`Adam`, `RMSProp`), checked on restore. */
  optimizerClass: string;
  tensors: CheckpointTensorEntry[];
  /** Bytes in `weights`. */
  byteLength: number;
  meta: Meta;
}

/** Adam keeps `β₁^t`, `β₂^t` in variables that `getWeights()` omits; saving them makes resume bit-exact. */
const OPTIMIZER_INTERNALS = ['accBeta1', 'accBeta2'] as const;

function byRoleCount(manifest: CheckpointManifest<unknown>, role: CheckpointTensorRole): number {
  return manifest.tensors.filter((t) => t.role === role).length;
}

function optimizerInternals(optimizer: tf.Optimizer): { name: string; variable: tf.Variable }[] {
  const record = optimizer as unknown as Record<string, unknown>;
  return OPTIMIZER_INTERNALS.filter((name) => record[name] instanceof tf.Variable).map((name) => ({
    name,
    variable: record[name] as tf.Variable,
  }));
}

/** Option keys that only choose initial values: a checkpoint overwrites what they chose. */
const INITIALISATION_KEYS = new Set(['seed']);

/**
 * The first place where two module configurations differ (`null` when they describe the same
 * architecture), ignoring seeds and an `inputSize` that one side has not learned yet.
 */
function configDifference(saved: unknown, current: unknown, path: string): string | null {
  if (Array.isArray(saved) || Array.isArray(current)) {
    if (!Array.isArray(saved) || !Array.isArray(current)) return path;
    if (saved.length !== current.length) return `${path}.length`;
    for (let i = 0; i < saved.length; i++) {
      const found = configDifference(saved[i], current[i], `${path}[${i}]`);
      if (found) return found;
    }
    return null;
  }
  if (saved !== null && current !== null && typeof saved === 'object' && typeof current === 'object') {
    const a = saved as Record<string, unknown>;
    const b = current as Record<string, unknown>;
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (INITIALISATION_KEYS.has(key)) continue;
      if (key === 'inputSize' && (a[key] === undefined || b[key] === undefined)) continue;
      const found = configDifference(a[key], b[key], path ? `${path}.${key}` : key);
      if (found) return found;
    }
    return null;
  }
  return Object.is(saved, current) ? null : path;
}

function valueAt(config: unknown, path: string): unknown {
  let value = config;
  for (const part of path.split(/\.|\[|\]/).filter(Boolean)) {
    if (value == null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function describeValue(value: unknown): string {
  if (value === undefined) return '(absent)';
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * Captures a model's variables (`trainableVariables` and the non-trainable `stateVariables`), its `config`, the
 * optimizer's state (`getWeights()`: iteration count and moments, plus Adam's running `β^t` products) and
 * caller metadata into one {@link Checkpoint}: a JSON manifest and one binary (`tf.io.encodeWeights`).
 *
 * Reads the tensors with `await data()` (no sync read). Throws `NUMERICAL_ERROR` when a model or optimizer
 * value is NaN or infinite (a checkpoint must be a state worth resuming from), `UNSUPPORTED_CONFIGURATION`
 * when the optimizer cannot export its weights.
 *
 * Ownership: borrows everything; the result holds plain data only.
 *
 * Reference: `tf.io.encodeWeights` (TensorFlow.js weights format).
 *
 * @example
 * ```ts
 * const checkpoint = await captureCheckpoint(model, optimizer, { epoch: 3 });
 * await restoreCheckpoint(freshModel, freshOptimizer, checkpoint);
 * ```
 */
export async function captureCheckpoint<Meta extends Record<string, unknown>>(
  model: LipschitzModule,
  optimizer: tf.Optimizer,
  meta: Meta,
): Promise<Checkpoint<Meta>> {
  let optimizerWeights: NamedTensor[];
  try {
    optimizerWeights = await optimizer.getWeights();
  } catch (cause) {
    throw new LipschitzError(
      'UNSUPPORTED_CONFIGURATION',
      `captureCheckpoint: the optimizer ${optimizer.getClassName()} cannot export its state. Use createOptimizer({ kind: 'adam' | 'rmsprop' }).`,
      { cause },
    );
  }
  const iterationTensor = optimizerWeights[0]?.name === 'iter' ? optimizerWeights[0].tensor : null;
  try {
    const named: NamedTensor[] = [];
    const roles: { role: CheckpointTensorRole; name: string }[] = [];
    model.trainableVariables.forEach((v, i) => {
      named.push({ name: `trainable/${i}`, tensor: v });
      roles.push({ role: 'trainable', name: String(i) });
    });
    model.stateVariables.forEach((v, i) => {
      named.push({ name: `state/${i}`, tensor: v });
      roles.push({ role: 'state', name: String(i) });
    });
    optimizerWeights.forEach((w, i) => {
      named.push({ name: `optimizer/${i}`, tensor: w.tensor });
      roles.push({ role: 'optimizer', name: w.name });
    });
    for (const { name, variable } of optimizerInternals(optimizer)) {
      named.push({ name: `optimizerInternal/${name}`, tensor: variable });
      roles.push({ role: 'optimizerInternal', name });
    }
    for (const { name, tensor } of named) {
      if (tensor.dtype !== 'float32') continue;
      const values = await tensor.data();
      for (let i = 0; i < values.length; i++) {
        if (!Number.isFinite(values[i])) {
          throw new LipschitzError(
            'NUMERICAL_ERROR',
            `captureCheckpoint: ${name} contains ${values[i]}; training diverged. Lower the learning rate or check the loss.`,
          );
        }
      }
    }
    const { data, specs } = await tf.io.encodeWeights(named);
    return {
      manifest: {
        format: CHECKPOINT_FORMAT,
        modelName: model.name,
        modelConfig: model.config ? structuredClone(model.config) : null,
        optimizerClass: optimizer.getClassName(),
        tensors: specs.map((spec, i) => ({ ...roles[i], spec })),
        byteLength: data.byteLength,
        meta,
      },
      weights: data,
    };
  } finally {
    iterationTensor?.dispose();
  }
}

/**
 * Restores a {@link Checkpoint} made by {@link captureCheckpoint} into a model with the same architecture
 * (the same `config`, seeds aside; variable count, order and shapes) and a **fresh** optimizer of the same
 * class (one that has taken no step: tfjs's `setWeights` replaces the moment variables without disposing old
 * ones). With `optimizer = null` only the model's variables are restored (e.g. to load the best weights for
 * certification). The model's `stateVariables` (OSSN's power-iteration vector and factor) are restored with
 * its trainable variables, so the model computes exactly the function that was trained. Adam's `β^t`
 * products are restored exactly, so subsequent steps are bit-for-bit those of an uninterrupted run.
 *
 * Older checkpoints (written before `stateVariables` joined the module contract: no `modelConfig` and no
 * state entries) still load: their trainable variables are restored and the model's state is left as
 * built — the old behaviour, in which an OSSN model evaluates with the factor of its fresh vector.
 *
 * Throws `CORRUPT_DATA` for a manifest of another format or a binary of the wrong length,
 * `SHAPE_MISMATCH` when the checkpoint was saved from a model of another configuration (another conv type,
 * activation, width, ...: the message names the first differing field) or the model's variables do not
 * match, `INVALID_ARGUMENT` when the optimizer is not fresh or of another class.
 *
 * Ownership: borrows the model and optimizer and assigns into their variables; nothing to dispose.
 *
 * @example
 * ```ts
 * await restoreCheckpoint(model, createOptimizer({ kind: 'adam' }), checkpoint);
 * ```
 */
export async function restoreCheckpoint(
  model: LipschitzModule,
  optimizer: tf.Optimizer | null,
  checkpoint: Checkpoint<unknown>,
): Promise<void> {
  const { manifest, weights } = checkpoint ?? ({} as Checkpoint<unknown>);
  if (manifest?.format !== CHECKPOINT_FORMAT || !Array.isArray(manifest.tensors) || !(weights instanceof ArrayBuffer)) {
    throw new LipschitzError('CORRUPT_DATA', `restoreCheckpoint: not a ${CHECKPOINT_FORMAT} checkpoint. Pass what captureCheckpoint returned.`);
  }
  if (weights.byteLength !== manifest.byteLength) {
    throw new LipschitzError(
      'CORRUPT_DATA',
      `restoreCheckpoint: the weights have ${weights.byteLength} bytes but the manifest says ${manifest.byteLength}; the checkpoint is truncated.`,
    );
  }
  if (optimizer && optimizer.getClassName() !== manifest.optimizerClass) {
    throw new LipschitzError(
      'INVALID_ARGUMENT',
      `restoreCheckpoint: the checkpoint holds ${manifest.optimizerClass} state but the optimizer is ${optimizer.getClassName()}. Create the same optimizer kind.`,
    );
  }
  if (optimizer && optimizer.iterations !== 0) {
    throw new LipschitzError('INVALID_ARGUMENT', 'restoreCheckpoint: the optimizer has already taken steps. Pass a freshly created optimizer.');
  }
  const trainable = model.trainableVariables;
  const state = model.stateVariables;
  if (manifest.modelConfig && model.config) {
    const where = configDifference(manifest.modelConfig, model.config, '');
    if (where !== null) {
      throw new LipschitzError(
        'SHAPE_MISMATCH',
        `restoreCheckpoint: the checkpoint was saved from another model: its ${where || 'configuration'} is ${describeValue(valueAt(manifest.modelConfig, where))}, this model's is ${describeValue(valueAt(model.config, where))}. Build the model the checkpoint was trained with (the run's config.json) and restore again.`,
      );
    }
  }
  // Checkpoints written before state variables were saved have no `modelConfig` and no state entries: they
  // restore the trainable variables only and leave the model's state as it is (the old behaviour).
  const legacyWithoutState = manifest.modelConfig === undefined && byRoleCount(manifest, 'state') === 0;
  const byRole = (role: CheckpointTensorRole) => manifest.tensors.filter((t) => t.role === role);
  const checkVariables = (role: CheckpointTensorRole, variables: tf.Variable[]) => {
    const entries = byRole(role);
    if (entries.length !== variables.length) {
      throw new LipschitzError(
        'SHAPE_MISMATCH',
        `restoreCheckpoint: the checkpoint has ${entries.length} ${role} variables but the model has ${variables.length}. Build the same architecture.`,
      );
    }
    entries.forEach((entry, i) => {
      const expected = variables[i].shape;
      if (entry.spec.shape.length !== expected.length || entry.spec.shape.some((d, k) => d !== expected[k])) {
        throw new LipschitzError(
          'SHAPE_MISMATCH',
          `restoreCheckpoint: ${role} variable ${i} has shape [${expected.join(', ')}] but the checkpoint has [${entry.spec.shape.join(', ')}]. Build the same architecture.`,
        );
      }
    });
  };
  checkVariables('trainable', trainable);
  if (!legacyWithoutState) checkVariables('state', state);

  let decoded: tf.NamedTensorMap;
  try {
    decoded = tf.io.decodeWeights(weights, manifest.tensors.map((t) => t.spec));
  } catch (cause) {
    throw new LipschitzError('CORRUPT_DATA', 'restoreCheckpoint: the weights could not be decoded.', { cause });
  }
  try {
    manifest.tensors.forEach((entry) => {
      const tensor = decoded[entry.spec.name];
      if (entry.role === 'trainable') trainable[Number(entry.name)].assign(tensor);
      else if (entry.role === 'state') state[Number(entry.name)].assign(tensor);
    });
    if (!optimizer) return;
    await optimizer.setWeights(byRole('optimizer').map((entry) => ({ name: entry.name, tensor: decoded[entry.spec.name] })));
    const internals = new Map(optimizerInternals(optimizer).map(({ name, variable }) => [name, variable]));
    for (const entry of byRole('optimizerInternal')) internals.get(entry.name)?.assign(decoded[entry.spec.name]);
  } finally {
    tf.dispose(Object.values(decoded));
  }
}
