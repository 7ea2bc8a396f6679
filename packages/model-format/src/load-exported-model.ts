import { type ExportedModel, LipschitzError } from '@lipschitz/core';
import { circularConv2d, invertibleDownsample } from '@lipschitz/blockconv';
import * as tf from '@tensorflow/tfjs-core';
import { groupSortActivation, maxMinActivation } from './activations';
import { type ValidateOptions, type ValidatedLayer, type ValidatedModel, type ValidatedNetwork, validateExportedModel } from './validate-model';

/** The float32 forward pass of a validated network on tfjs (see {@link exportedForward}). */
export interface ExportedForward {
  /** The output shape (without batch). */
  readonly outputShape: number[];
  /** Runs the network on a batch `[batch, ...inputShape]`; borrows `x`, the result is owned by the caller. */
  predict(x: tf.Tensor): tf.Tensor;
  /** Releases the weight tensors; idempotent. */
  dispose(): void;
}

/** A `lipschitz-model/1` model loaded for inference with plain tfjs ops (see {@link loadExportedModel}). */
export interface LoadedExportedModel extends ExportedForward {
  /** The file's input description. */
  readonly input: { shape: number[]; range: [number, number] };
  /** The bound the file states (0 when it states none). Certificates recompute it: see `networkLipschitzUpperBound`. */
  readonly lipschitzUpperBound: number;
  /** The file's metadata. */
  readonly metadata: Record<string, unknown>;
  /** The validated file (decoded weights and shapes), e.g. for `boundValidatedNetwork`. */
  readonly validated: ValidatedModel;
}

type Op = (x: tf.Tensor) => tf.Tensor;

function toOp(row: ValidatedLayer, owned: tf.Tensor[]): Op {
  const { layer } = row;
  switch (layer.type) {
    case 'conv2d': {
      const w = row.weight as { shape: number[]; values: Float32Array };
      const kernel = tf.tensor4d(w.values, w.shape as [number, number, number, number]);
      const bias = row.bias ? tf.tensor1d(row.bias.values) : undefined;
      owned.push(kernel, ...(bias ? [bias] : []));
      if (layer.padding === 'circular') return (x) => circularConv2d(x as tf.Tensor4D, kernel, bias);
      const mode = layer.padding === 'valid' ? 'valid' : 'same';
      return (x) => {
        const y = tf.conv2d(x as tf.Tensor4D, kernel, 1, mode);
        return bias ? tf.add(y, bias) : y;
      };
    }
    case 'dense': {
      const w = row.weight as { shape: number[]; values: Float32Array };
      const weight = tf.tensor2d(w.values, w.shape as [number, number]);
      const bias = row.bias ? tf.tensor1d(row.bias.values) : undefined;
      owned.push(weight, ...(bias ? [bias] : []));
      return (x) => {
        const y = tf.matMul(x as tf.Tensor2D, weight);
        return bias ? tf.add(y, bias) : y;
      };
    }
    case 'invertibleDownsample':
      return (x) => invertibleDownsample(x as tf.Tensor4D, layer.factor);
    case 'flatten':
      return (x) => tf.reshape(x, [x.shape[0], -1]);
    case 'maxMin':
      return maxMinActivation;
    case 'groupSort':
      return (x) => groupSortActivation(x, layer.groupSize);
    case 'relu':
      return (x) => tf.relu(x);
  }
}

/**
 * The float32 forward pass of a validated network (from `validateExportedModel` or
 * `validateExportedLayers`), with plain tfjs ops: `conv2d` (HWIO, stride 1; `circular` padding as
 * the reference via `circularConv2d` of `@lipschitz/blockconv`, `zero-same` = TF 'same', `valid`),
 * `dense` (`x·W + b`), `invertibleDownsample` (NHWC space-to-depth), `flatten` (NHWC row-major),
 * `maxMin`, `groupSort` ({@link maxMinActivation}, {@link groupSortActivation}), `relu`.
 *
 * Ownership: the runner owns its weight tensors (`dispose()`); `predict` borrows `x`.
 * @throws LipschitzError `SHAPE_MISMATCH` when `predict` gets a wrong shape, `DISPOSED` after `dispose()`.
 * @example
 * ```ts
 * const forward = exportedForward(validateExportedModel(file));
 * const logits = forward.predict(images);
 * forward.dispose();
 * ```
 * @see design.md, "Exported model format".
 */
export function exportedForward(network: ValidatedNetwork, fn = 'exportedForward'): ExportedForward {
  const owned: tf.Tensor[] = [];
  let ops: Op[];
  try {
    ops = network.layers.map((row) => toOp(row, owned));
  } catch (error) {
    tf.dispose(owned);
    throw error;
  }
  const inputShape = [...network.inputShape];
  let disposed = false;
  return {
    outputShape: [...network.outputShape],
    predict(x: tf.Tensor): tf.Tensor {
      if (disposed) throw new LipschitzError('DISPOSED', `${fn}.predict: this model was disposed. Load it again.`);
      const s = x.shape.slice(1);
      if (s.length !== inputShape.length || s.some((d, i) => d !== inputShape[i])) {
        throw new LipschitzError('SHAPE_MISMATCH', `${fn}.predict: expected input [batch, ${inputShape.join(', ')}], got [${x.shape.join(', ')}].`);
      }
      return tf.tidy(() => {
        let y = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
        for (const op of ops) y = op(y);
        return y === x ? tf.clone(x) : y;
      });
    },
    dispose() {
      if (disposed) return;
      tf.dispose(owned);
      disposed = true;
    },
  };
}

/**
 * Loads a `lipschitz-model/1` object (or its JSON text) and returns a runner that applies it with
 * plain tfjs ops ({@link exportedForward}). The whole file is checked first by the one validator,
 * {@link validateExportedModel} (format, fields, sizes before any allocation, tensor encodings,
 * shapes, finite values), so it refuses exactly what every other reader refuses, with the same message.
 *
 * Ownership: the runner owns its weight tensors (`dispose()`); `predict` borrows `x`.
 * @throws LipschitzError `CORRUPT_DATA` / `LIMIT_EXCEEDED` from {@link validateExportedModel};
 *   `SHAPE_MISMATCH` when `predict` gets a wrong shape.
 * @example
 * ```ts
 * const runner = loadExportedModel(JSON.parse(text));
 * const logits = runner.predict(images); // [batch, 10]
 * ```
 * @see design.md, "Exported model format".
 */
export function loadExportedModel(file: ExportedModel | string, options: ValidateOptions = {}): LoadedExportedModel {
  const validated = validateExportedModel(file, options);
  const forward = exportedForward(validated, 'loadExportedModel');
  return {
    input: { shape: [...validated.input.shape], range: [validated.input.range[0], validated.input.range[1]] },
    lipschitzUpperBound: validated.statedLipschitzUpperBound ?? 0,
    metadata: validated.metadata,
    validated,
    outputShape: forward.outputShape,
    predict: forward.predict,
    dispose: forward.dispose,
  };
}
