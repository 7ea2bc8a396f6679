import {
  LipschitzError,
  type ExportedLayer,
  type ExportedModel,
  type LipschitzModule,
  MODEL_FORMAT,
  decodeTensor,
} from '@lipschitz/core';
import { circularConv2d, invertibleDownsample } from '@lipschitz/blockconv';
import * as tf from '@tensorflow/tfjs-core';
import { GroupSort } from './group-sort';
import { MaxMin } from './max-min';

/** Options of {@link exportModel}. */
export interface ExportModelOptions {
  /** Input shape without the batch axis, e.g. `[28, 28, 1]`. */
  inputShape: number[];
  /** Range of the input values (default `[0, 1]`). */
  range?: [number, number];
  /** Free-form metadata (model, conv type, training config, package versions). */
  metadata?: Record<string, unknown>;
}

/**
 * Exports a model as a `lipschitz-model/1` object (design.md): explicit kernels (`exportLayers`, the
 * frozen kernels when the model is frozen) and the sound `lipschitzUpperBound` of the whole network at
 * `inputShape`. `JSON.stringify` it to write the file.
 *
 * Ownership: borrows the model. Throws `INVALID_ARGUMENT` on a bad range or shape, and what the
 * model's `exportLayers` throws (`UNSUPPORTED_CONFIGURATION` for layers the format cannot express).
 *
 * @example
 * ```ts
 * const file = await exportModel(model, { inputShape: [28, 28, 1], metadata: { model: 'small' } });
 * ```
 * @see design.md, "Exported model format".
 */
export async function exportModel(model: LipschitzModule, options: ExportModelOptions): Promise<ExportedModel> {
  const fn = 'exportModel';
  const shape = options?.inputShape;
  if (!Array.isArray(shape) || shape.length === 0 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: inputShape must be an array of positive integers such as [28, 28, 1], got ${String(shape)}.`);
  }
  const range = options.range ?? [0, 1];
  if (!Array.isArray(range) || range.length !== 2 || !range.every(Number.isFinite) || !(range[0] < range[1])) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: range must be [min, max] with min < max, got ${String(range)}.`);
  }
  const layers = await model.exportLayers(shape);
  const lipschitzUpperBound = await model.lipschitzUpperBound(shape);
  return {
    format: MODEL_FORMAT,
    input: { shape: [...shape], range: [range[0], range[1]] },
    layers,
    lipschitzUpperBound,
    metadata: options.metadata ?? {},
  };
}

type Op = (x: tf.Tensor) => tf.Tensor;

/** A `lipschitz-model/1` model loaded for inference with plain tfjs ops (see {@link loadExportedModel}). */
export interface LoadedExportedModel {
  /** The file's input description. */
  readonly input: { shape: number[]; range: [number, number] };
  /** The file's sound Lipschitz bound. */
  readonly lipschitzUpperBound: number;
  /** The file's metadata. */
  readonly metadata: Record<string, unknown>;
  /** The output shape (without batch). */
  readonly outputShape: number[];
  /** Runs the model on a batch `[batch, ...input.shape]`; the result is owned by the caller. */
  predict(x: tf.Tensor): tf.Tensor;
  /** Releases the weight tensors; idempotent. */
  dispose(): void;
}

function corrupt(message: string): LipschitzError {
  return new LipschitzError('CORRUPT_DATA', `loadExportedModel: ${message}`);
}

/**
 * Loads a `lipschitz-model/1` object (or its JSON text) and returns a runner that applies it with
 * plain tfjs ops: `conv2d` (HWIO, stride 1; `circular` padding as the reference, `zero-same` = TF
 * 'same' zero padding, `valid`), `dense` (`x·W + b`), `invertibleDownsample` (NHWC space-to-depth),
 * `flatten` (NHWC row-major), `maxMin`, `groupSort`, `relu`. The whole file is validated first
 * (format, layer types, tensor encodings, and that every layer's shapes fit the previous one).
 *
 * Ownership: the runner owns its weight tensors (`dispose()`); `predict` borrows `x`.
 * Throws `CORRUPT_DATA` on any invalid content, `SHAPE_MISMATCH` when `predict` gets a wrong shape.
 *
 * @example
 * ```ts
 * const runner = loadExportedModel(JSON.parse(text));
 * const logits = runner.predict(images); // [batch, 10]
 * ```
 * @see design.md, "Exported model format".
 */
export function loadExportedModel(file: ExportedModel | string): LoadedExportedModel {
  let json: ExportedModel;
  if (typeof file === 'string') {
    try {
      json = JSON.parse(file);
    } catch {
      throw corrupt('the text is not valid JSON.');
    }
  } else json = file;
  if (json == null || typeof json !== 'object') throw corrupt('expected an object.');
  if (json.format !== MODEL_FORMAT) throw corrupt(`format must be '${MODEL_FORMAT}', got ${JSON.stringify(json.format)}.`);
  const input = json.input;
  if (
    input == null ||
    !Array.isArray(input.shape) ||
    input.shape.length === 0 ||
    input.shape.some((d) => !Number.isInteger(d) || d < 1) ||
    !Array.isArray(input.range) ||
    input.range.length !== 2 ||
    !input.range.every((v) => typeof v === 'number' && Number.isFinite(v))
  ) {
    throw corrupt('input must be { shape: positive integers, range: [min, max] }.');
  }
  if (typeof json.lipschitzUpperBound !== 'number' || !(json.lipschitzUpperBound >= 0)) {
    throw corrupt('lipschitzUpperBound must be a non-negative number.');
  }
  if (!Array.isArray(json.layers)) throw corrupt('layers must be an array.');

  const owned: tf.Tensor[] = [];
  const tensor = (t: Parameters<typeof decodeTensor>[0], where: string, rank: number) => {
    let decoded: ReturnType<typeof decodeTensor>;
    try {
      decoded = decodeTensor(t, where);
    } catch (error) {
      throw corrupt((error as Error).message);
    }
    if (decoded.shape.length !== rank) throw corrupt(`${where} must have rank ${rank}, got shape [${decoded.shape.join(', ')}].`);
    return decoded;
  };
  const ops: Op[] = [];
  let shape = [...input.shape];
  try {
    json.layers.forEach((layer: ExportedLayer, i: number) => {
      const where = `layer ${i} (${String((layer as { type?: unknown })?.type)})`;
      const needNhwc = () => {
        if (shape.length !== 3) throw corrupt(`${where} needs an NHWC input, but the previous layers give shape [${shape.join(', ')}].`);
      };
      switch (layer?.type) {
        case 'conv2d': {
          needNhwc();
          const k = tensor(layer.kernel, `${where} kernel`, 4);
          const [kh, kw, cin, cout] = k.shape;
          if (cin !== shape[2]) throw corrupt(`${where} kernel expects ${cin} input channels, got ${shape[2]}.`);
          const b = layer.bias === undefined ? null : tensor(layer.bias, `${where} bias`, 1);
          if (b && b.shape[0] !== cout) throw corrupt(`${where} bias must have ${cout} values.`);
          const padding = layer.padding;
          if (padding !== 'circular' && padding !== 'zero-same' && padding !== 'valid') throw corrupt(`${where} has unknown padding ${JSON.stringify(padding)}.`);
          if (padding !== 'zero-same' && (kh > shape[0] || kw > shape[1])) throw corrupt(`${where} kernel ${kh}×${kw} is larger than its input ${shape[0]}×${shape[1]}.`);
          const kernel = tf.tensor4d(k.values, [kh, kw, cin, cout]);
          const bias = b ? tf.tensor1d(b.values) : undefined;
          owned.push(kernel, ...(bias ? [bias] : []));
          if (padding === 'circular') ops.push((x) => circularConv2d(x as tf.Tensor4D, kernel, bias));
          else {
            const mode = padding === 'valid' ? 'valid' : 'same';
            ops.push((x) => {
              const y = tf.conv2d(x as tf.Tensor4D, kernel, 1, mode);
              return bias ? tf.add(y, bias) : y;
            });
          }
          shape = padding === 'valid' ? [shape[0] - kh + 1, shape[1] - kw + 1, cout] : [shape[0], shape[1], cout];
          break;
        }
        case 'dense': {
          if (shape.length !== 1) throw corrupt(`${where} needs a flat input, but the previous layers give shape [${shape.join(', ')}] (add a flatten layer).`);
          const w = tensor(layer.weight, `${where} weight`, 2);
          if (w.shape[0] !== shape[0]) throw corrupt(`${where} weight expects ${w.shape[0]} inputs, got ${shape[0]}.`);
          const b = layer.bias === undefined ? null : tensor(layer.bias, `${where} bias`, 1);
          if (b && b.shape[0] !== w.shape[1]) throw corrupt(`${where} bias must have ${w.shape[1]} values.`);
          const weight = tf.tensor2d(w.values, [w.shape[0], w.shape[1]]);
          const bias = b ? tf.tensor1d(b.values) : undefined;
          owned.push(weight, ...(bias ? [bias] : []));
          ops.push((x) => {
            const y = tf.matMul(x as tf.Tensor2D, weight);
            return bias ? tf.add(y, bias) : y;
          });
          shape = [w.shape[1]];
          break;
        }
        case 'invertibleDownsample': {
          needNhwc();
          const f = layer.factor;
          if (!Number.isInteger(f) || f < 1 || shape[0] % f !== 0 || shape[1] % f !== 0) {
            throw corrupt(`${where} factor must be a positive integer dividing the input size ${shape[0]}×${shape[1]}.`);
          }
          ops.push((x) => invertibleDownsample(x as tf.Tensor4D, f));
          shape = [shape[0] / f, shape[1] / f, shape[2] * f * f];
          break;
        }
        case 'flatten':
          ops.push((x) => tf.reshape(x, [x.shape[0], -1]));
          shape = [shape.reduce((a, b) => a * b, 1)];
          break;
        case 'maxMin': {
          if (shape[shape.length - 1] % 2 !== 0) throw corrupt(`${where} needs an even channel count.`);
          const m = new MaxMin();
          ops.push((x) => m.apply(x));
          break;
        }
        case 'groupSort': {
          const g = layer.groupSize;
          if (!Number.isInteger(g) || g < 2 || shape[shape.length - 1] % g !== 0) throw corrupt(`${where} groupSize must be an integer ≥ 2 dividing the channel count.`);
          const m = new GroupSort({ groupSize: g });
          ops.push((x) => m.apply(x));
          break;
        }
        case 'relu':
          ops.push((x) => tf.relu(x));
          break;
        default:
          throw corrupt(`${where}: unknown layer type. Known: conv2d, dense, invertibleDownsample, flatten, maxMin, groupSort, relu.`);
      }
    });
  } catch (error) {
    tf.dispose(owned);
    throw error;
  }
  const inputShape = [...input.shape];
  let disposed = false;
  return {
    input: { shape: inputShape, range: [input.range[0], input.range[1]] },
    lipschitzUpperBound: json.lipschitzUpperBound,
    metadata: json.metadata ?? {},
    outputShape: shape,
    predict(x: tf.Tensor): tf.Tensor {
      if (disposed) throw new LipschitzError('DISPOSED', 'loadExportedModel.predict: this model was disposed. Load it again.');
      const s = x.shape.slice(1);
      if (s.length !== inputShape.length || s.some((d, i) => d !== inputShape[i])) {
        throw new LipschitzError('SHAPE_MISMATCH', `loadExportedModel.predict: expected input [batch, ${inputShape.join(', ')}], got [${x.shape.join(', ')}].`);
      }
      return tf.tidy(() => {
        const y = ops.reduce((acc, op) => op(acc), x);
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
