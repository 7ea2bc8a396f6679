import { LipschitzError, type LipschitzModule } from '@lipschitz/core';
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
  /** The model's `name`, checked on restore. */
  modelName: string;
  /** tfjs class name of the optimizer (`Adam`, `RMSProp`), checked on restore. */
  optimizerClass: string;
  tensors: CheckpointTensorEntry[];
  /** Bytes in `weights`. */
  byteLength: number;
  meta: Meta;
}

/**
 * Non-trainable state a module may expose for exact checkpoints (OSSN's power-iteration vector, running
 * statistics). Not part of `LipschitzModule` yet; read by duck typing.
 */
export interface WithStateVariables {
  readonly stateVariables?: tf.Variable[];
}

/** Adam keeps `β₁^t`, `β₂^t` in variables that `getWeights()` omits; saving them makes resume bit-exact. */
const OPTIMIZER_INTERNALS = ['accBeta1', 'accBeta2'] as const;

function optimizerInternals(optimizer: tf.Optimizer): { name: string; variable: tf.Variable }[] {
  const record = optimizer as unknown as Record<string, unknown>;
  return OPTIMIZER_INTERNALS.filter((name) => record[name] instanceof tf.Variable).map((name) => ({
    name,
    variable: record[name] as tf.Variable,
  }));
}

function stateVariablesOf(model: LipschitzModule): tf.Variable[] {
  const state = (model as LipschitzModule & WithStateVariables).stateVariables;
  return Array.isArray(state) ? state : [];
}

/**
 * Captures a model's variables (trainable, plus `stateVariables` when the module exposes them), the
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
    stateVariablesOf(model).forEach((v, i) => {
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
 * (variable count, order and shapes) and a **fresh** optimizer of the same class (one that has taken no
 * step: tfjs's `setWeights` replaces the moment variables without disposing old ones). With
 * `optimizer = null` only the model's variables are restored (e.g. to load the best weights for
 * certification). Adam's `β^t`
 * products are restored exactly, so subsequent steps are bit-for-bit those of an uninterrupted run.
 *
 * Throws `CORRUPT_DATA` for a manifest of another format or a binary of the wrong length,
 * `SHAPE_MISMATCH` when the model's variables do not match, `INVALID_ARGUMENT` when the optimizer is
 * not fresh or of another class.
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
  const state = stateVariablesOf(model);
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
  checkVariables('state', state);

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
