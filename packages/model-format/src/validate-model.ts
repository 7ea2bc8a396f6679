import { type ExportedLayer, type ExportedModel, type ExportedPadding, LipschitzError, type LipschitzErrorCode, MODEL_FORMAT, decodeTensor } from '@lipschitz/core';
import { type ModelSizeLimits, resolveModelSizeLimits } from './limits';

/** Options of {@link validateExportedModel} and {@link validateExportedLayers}. */
export interface ValidateOptions {
  /** Raise (or lower) the documented size limits; see {@link DEFAULT_MODEL_SIZE_LIMITS}. */
  limits?: Partial<ModelSizeLimits>;
}

/** A decoded weight tensor: its shape and its float32 values (row-major). */
export interface DecodedTensor {
  shape: number[];
  values: Float32Array;
}

/**
 * One layer after validation: the file's layer, its position, the shapes it maps between (without the
 * batch axis) and, for `conv2d`/`dense`, its decoded weight (`kernel` HWIO or `weight` `[in, out]`) and bias.
 */
export interface ValidatedLayer {
  index: number;
  type: ExportedLayer['type'];
  layer: ExportedLayer;
  inputShape: number[];
  outputShape: number[];
  /** The conv2d kernel or the dense weight. */
  weight?: DecodedTensor;
  bias?: DecodedTensor;
}

/** A validated list of layers and the shapes it walks (see {@link validateExportedLayers}). */
export interface ValidatedNetwork {
  inputShape: number[];
  outputShape: number[];
  layers: ValidatedLayer[];
}

/** A validated `lipschitz-model/1` file (see {@link validateExportedModel}). */
export interface ValidatedModel extends ValidatedNetwork {
  input: { shape: number[]; range: [number, number] };
  /** The bound the file states (not trusted by any certificate; absent when the file has none). */
  statedLipschitzUpperBound?: number;
  metadata: Record<string, unknown>;
  /** The file as given (parsed when it was text). */
  file: ExportedModel;
}

/** The shape walk's view of one layer (see {@link walkExportedLayers}). */
export interface LayerShape {
  index: number;
  type: ExportedLayer['type'];
  inputShape: number[];
  outputShape: number[];
}

const FN = 'validateExportedModel';
const LAYER_TYPES = ['conv2d', 'dense', 'invertibleDownsample', 'flatten', 'maxMin', 'groupSort', 'relu'] as const;
const LAYER_KEYS: Record<(typeof LAYER_TYPES)[number], readonly string[]> = {
  conv2d: ['type', 'padding', 'kernel', 'bias'],
  dense: ['type', 'weight', 'bias'],
  invertibleDownsample: ['type', 'factor'],
  flatten: ['type'],
  maxMin: ['type'],
  groupSort: ['type', 'groupSize'],
  relu: ['type'],
};
const PADDINGS: readonly ExportedPadding[] = ['circular', 'zero-same', 'valid'];
const TOP_KEYS = ['format', 'input', 'layers', 'lipschitzUpperBound', 'metadata'];

function fail(code: LipschitzErrorCode, message: string): never {
  throw new LipschitzError(code, `${FN}: ${message}`);
}

const isObject = (v: unknown): v is Record<string, unknown> => v != null && typeof v === 'object' && !Array.isArray(v);
const product = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const show = (shape: readonly number[]) => `[${shape.join(', ')}]`;

function checkKeys(where: string, value: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      fail('CORRUPT_DATA', `${where} has an unknown field "${key}" (allowed: ${allowed.join(', ')}); a reader that ignored it could compute another network, so the file is refused.`);
    }
  }
}

/** Checks a tensor's declared fields and size without decoding it; returns its shape. */
function declaredTensor(where: string, t: unknown, rank: number, limits: ModelSizeLimits): number[] {
  if (!isObject(t)) fail('CORRUPT_DATA', `${where} is missing (expected { shape, dtype: "float32", data }).`);
  checkKeys(where, t, ['shape', 'dtype', 'data']);
  if (t.dtype !== 'float32') fail('CORRUPT_DATA', `${where} has dtype ${JSON.stringify(t.dtype)}; only "float32" is supported.`);
  const shape = t.shape;
  if (!Array.isArray(shape) || shape.length !== rank || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    fail('CORRUPT_DATA', `${where} must have a shape of ${rank} positive integers, got ${JSON.stringify(shape)}.`);
  }
  const size = product(shape);
  if (size > limits.maxTensorElements) {
    fail('LIMIT_EXCEEDED', `${where} declares ${size} values (shape ${show(shape)}), more than maxTensorElements = ${limits.maxTensorElements}; raise limits.maxTensorElements to accept it.`);
  }
  if (typeof t.data !== 'string') fail('CORRUPT_DATA', `${where} has no base64 data.`);
  const bytes = size * 4;
  const padded = 4 * Math.ceil(bytes / 3);
  const unpadded = Math.ceil((4 * bytes) / 3);
  if (t.data.length !== padded && t.data.length !== unpadded) {
    const actual = Math.floor((t.data.replace(/=+$/, '').length * 3) / 4);
    fail('CORRUPT_DATA', `${where} has ${actual} bytes but shape ${show(shape)} needs ${bytes}.`);
  }
  return [...shape];
}

function checkActivation(index: number, type: string, shape: readonly number[], limits: ModelSizeLimits): void {
  const size = product(shape);
  if (size > limits.maxActivationElements) {
    fail(
      'LIMIT_EXCEEDED',
      `layer ${index} (${type}) outputs ${show(shape)} = ${size} values per example, more than maxActivationElements = ${limits.maxActivationElements}; raise limits.maxActivationElements to accept it.`,
    );
  }
}

/** Checks one layer's fields and shapes (no decoding); returns its output shape. */
function walkLayer(layer: unknown, index: number, shape: number[], limits: ModelSizeLimits): { type: ExportedLayer['type']; out: number[] } {
  if (!isObject(layer)) fail('CORRUPT_DATA', `layer ${index} must be an object with a "type".`);
  const type = layer.type as ExportedLayer['type'];
  const where = `layer ${index} (${String(type)})`;
  if (!LAYER_TYPES.includes(type)) {
    fail('UNSUPPORTED_CONFIGURATION', `${where}: unknown layer type ${JSON.stringify(layer.type)}; it cannot be bounded soundly. Known: ${LAYER_TYPES.join(', ')}.`);
  }
  checkKeys(where, layer, LAYER_KEYS[type]);
  const channels = shape[shape.length - 1];
  switch (type) {
    case 'conv2d': {
      if (!PADDINGS.includes(layer.padding as ExportedPadding)) {
        fail('CORRUPT_DATA', `${where}: padding ${JSON.stringify(layer.padding)} is not one of circular, zero-same, valid.`);
      }
      if (shape.length !== 3) fail('CORRUPT_DATA', `${where}: conv2d needs an [h, w, c] input, got ${show(shape)}. Put it before flatten.`);
      const [kh, kw, cin, cout] = declaredTensor(`${where} kernel`, layer.kernel, 4, limits);
      const [h, w, c] = shape;
      if (cin !== c) fail('CORRUPT_DATA', `${where}: conv2d kernel expects ${cin} input channels, the input has ${c}.`);
      if (layer.bias !== undefined) {
        const [b] = declaredTensor(`${where} bias`, layer.bias, 1, limits);
        if (b !== cout) fail('CORRUPT_DATA', `${where} bias has ${b} values but the kernel has ${cout} output channels; it must have exactly ${cout}.`);
      }
      if (layer.padding !== 'zero-same' && (kh > h || kw > w)) {
        fail('UNSUPPORTED_CONFIGURATION', `${where}: ${String(layer.padding)} conv2d kernel ${kh}×${kw} is larger than its ${h}×${w} input; such a model cannot be certified.`);
      }
      if (layer.padding === 'zero-same') checkActivation(index, type, [h + kh - 1, w + kw - 1, Math.max(cin, cout)], limits);
      return { type, out: layer.padding === 'valid' ? [h - kh + 1, w - kw + 1, cout] : [h, w, cout] };
    }
    case 'dense': {
      if (shape.length !== 1) fail('CORRUPT_DATA', `${where}: dense needs a flat [features] input, got ${show(shape)}. Add a flatten layer before it.`);
      const [rows, cols] = declaredTensor(`${where} weight`, layer.weight, 2, limits);
      if (rows !== shape[0]) fail('CORRUPT_DATA', `${where}: dense weight expects ${rows} inputs, the input has ${shape[0]}.`);
      if (layer.bias !== undefined) {
        const [b] = declaredTensor(`${where} bias`, layer.bias, 1, limits);
        if (b !== cols) fail('CORRUPT_DATA', `${where} bias has ${b} values but the weight has ${cols} outputs; it must have exactly ${cols}.`);
      }
      return { type, out: [cols] };
    }
    case 'invertibleDownsample': {
      const f = layer.factor as number;
      if (!Number.isInteger(f) || f < 1) fail('CORRUPT_DATA', `${where}: factor must be a positive integer, got ${JSON.stringify(layer.factor)}.`);
      if (shape.length !== 3 || shape[0] % f !== 0 || shape[1] % f !== 0) {
        fail('CORRUPT_DATA', `${where}: invertibleDownsample(${f}) needs an [h, w, c] input with h and w divisible by ${f}, got ${show(shape)}.`);
      }
      return { type, out: [shape[0] / f, shape[1] / f, shape[2] * f * f] };
    }
    case 'flatten':
      return { type, out: [product(shape)] };
    case 'maxMin':
      if (channels % 2 !== 0) fail('CORRUPT_DATA', `${where}: maxMin needs an even number of channels, got ${channels}.`);
      return { type, out: [...shape] };
    case 'groupSort': {
      const g = layer.groupSize as number;
      if (!Number.isInteger(g) || g < 2 || channels % g !== 0) {
        fail('CORRUPT_DATA', `${where}: groupSize ${JSON.stringify(layer.groupSize)} must be an integer ≥ 2 dividing the ${channels} channels.`);
      }
      return { type, out: [...shape] };
    }
    case 'relu':
      return { type, out: [...shape] };
  }
}

function checkInputShape(shape: unknown, limits: ModelSizeLimits): number[] {
  if (!Array.isArray(shape) || shape.length === 0) fail('CORRUPT_DATA', `input.shape must be a non-empty array of positive integers, got ${JSON.stringify(shape)}.`);
  shape.forEach((d, i) => {
    if (!Number.isInteger(d) || d < 1) fail('CORRUPT_DATA', `input.shape[${i}] must be a positive integer, got ${JSON.stringify(d)}.`);
  });
  const size = product(shape);
  if (size > limits.maxActivationElements) {
    fail('LIMIT_EXCEEDED', `input.shape ${show(shape)} = ${size} values per example, more than maxActivationElements = ${limits.maxActivationElements}; raise limits.maxActivationElements to accept it.`);
  }
  return [...shape];
}

/**
 * The one shape walk of `lipschitz-model/1` layers: checks every layer's type, its fields (unknown
 * fields are refused), the declared tensor shapes, dtypes and byte lengths, that the layers chain, and
 * the size limits — all **before** anything is decoded or allocated. Returns each layer's input and
 * output shape (without the batch axis).
 *
 * Ownership: reads `layers`; returns plain arrays.
 * @throws LipschitzError `CORRUPT_DATA` (message `validateExportedModel: layer i (type) …` naming the
 *   layer and the field), `LIMIT_EXCEEDED` (a declared size above `limits`).
 * @example
 * ```ts
 * const shapes = walkExportedLayers(file.layers, file.input.shape);
 * shapes.at(-1)?.outputShape; // [10]
 * ```
 * @see design.md, "Exported model format".
 */
export function walkExportedLayers(layers: unknown, inputShape: unknown, options: ValidateOptions = {}): LayerShape[] {
  const limits = resolveModelSizeLimits(options.limits);
  let shape = checkInputShape(inputShape, limits);
  if (!Array.isArray(layers)) fail('CORRUPT_DATA', 'layers must be an array.');
  if (layers.length > limits.maxLayers) {
    fail('LIMIT_EXCEEDED', `the file has ${layers.length} layers, more than maxLayers = ${limits.maxLayers}; raise limits.maxLayers to accept it.`);
  }
  return layers.map((layer, index) => {
    const { type, out } = walkLayer(layer, index, shape, limits);
    checkActivation(index, type, out, limits);
    const row = { index, type, inputShape: shape, outputShape: out };
    shape = out;
    return row;
  });
}

function decode(where: string, t: { shape: number[]; data: string }, isWeight: boolean): DecodedTensor {
  // The walk has checked the dtype and the shape; the tensor codec of @lipschitz/core checks the data (base64, and a
  // byte count that is the shape's) and gives its values; its messages are re-worded as this validator's.
  let values: Float32Array;
  try {
    ({ values } = decodeTensor({ shape: t.shape, dtype: 'float32', data: t.data }, where));
  } catch (cause) {
    throw new LipschitzError('CORRUPT_DATA', `${FN}: ${(cause as Error).message.replace(/^decodeTensor: /, '')}`, { cause });
  }
  const size = values.length;
  let nonZero = false;
  for (let i = 0; i < size; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) fail('CORRUPT_DATA', `${where} value ${i} is ${v}; every weight must be finite.`);
    if (v !== 0) nonZero = true;
  }
  if (isWeight && !nonZero) {
    fail('CORRUPT_DATA', `${where} is all zeros: the network's Lipschitz bound would be 0 and every certified radius undefined; such a file cannot be certified.`);
  }
  return { shape: [...t.shape], values };
}

/**
 * Validates a list of `lipschitz-model/1` layers for inputs of `inputShape` ({@link walkExportedLayers}
 * first, so nothing is decoded before every declared size is checked), then decodes every tensor and
 * refuses non-finite values and all-zero weights (a bound of 0 gives no radius).
 *
 * Ownership: reads `layers`; the result holds fresh `Float32Array`s.
 * @throws LipschitzError as {@link walkExportedLayers}, and `CORRUPT_DATA` for bad base64, non-finite
 *   values or an all-zero `kernel`/`weight`.
 * @example
 * ```ts
 * const network = validateExportedLayers(await model.exportLayers([28, 28, 1]), [28, 28, 1]);
 * ```
 * @see design.md, "Exported model format".
 */
export function validateExportedLayers(layers: unknown, inputShape: unknown, options: ValidateOptions = {}): ValidatedNetwork {
  const shapes = walkExportedLayers(layers, inputShape, options);
  const list = layers as ExportedLayer[];
  const validated = shapes.map((s): ValidatedLayer => {
    const layer = list[s.index];
    const where = `layer ${s.index} (${s.type})`;
    const row: ValidatedLayer = { ...s, layer };
    if (layer.type === 'conv2d') row.weight = decode(`${where} kernel`, layer.kernel, true);
    if (layer.type === 'dense') row.weight = decode(`${where} weight`, layer.weight, true);
    if ((layer.type === 'conv2d' || layer.type === 'dense') && layer.bias !== undefined) row.bias = decode(`${where} bias`, layer.bias, false);
    return row;
  });
  const shape = shapes.length > 0 ? shapes[shapes.length - 1].outputShape : [...(inputShape as number[])];
  return { inputShape: [...(inputShape as number[])], outputShape: shape, layers: validated };
}

/**
 * The one validator of `lipschitz-model/1` files. Checks, in this order and before any allocation:
 * JSON text, `format`, the top-level fields (unknown ones refused), `input.shape` (positive integers,
 * at most `maxActivationElements` values), `input.range` (finite `[min, max]`, `min < max`,
 * `|min|, |max| ≤ maxInputMagnitude`), the stated `lipschitzUpperBound` (when present: a finite number
 * ≥ 0), then {@link validateExportedLayers}. Every message starts with `validateExportedModel:` and
 * names the layer (`layer 3 (dense) bias …`) or the field, so every reader refuses a file the same way.
 *
 * Ownership: reads `file` (an object or its JSON text); the result holds fresh typed arrays.
 * @throws LipschitzError `CORRUPT_DATA` (malformed content), `LIMIT_EXCEEDED` (a declared size above
 *   the limits; pass `limits` to raise them).
 * @example
 * ```ts
 * const model = validateExportedModel(await readFile('model.json', 'utf8'));
 * model.outputShape; // [10]
 * ```
 * @see design.md, "Exported model format"; {@link DEFAULT_MODEL_SIZE_LIMITS}.
 */
export function validateExportedModel(file: unknown, options: ValidateOptions = {}): ValidatedModel {
  const limits = resolveModelSizeLimits(options.limits);
  let json: unknown = file;
  if (typeof file === 'string') {
    try {
      json = JSON.parse(file);
    } catch {
      fail('CORRUPT_DATA', 'the text is not valid JSON.');
    }
  }
  if (!isObject(json)) fail('CORRUPT_DATA', 'expected a lipschitz-model/1 object.');
  if (json.format !== MODEL_FORMAT) fail('CORRUPT_DATA', `format must be "${MODEL_FORMAT}", got ${JSON.stringify(json.format)}. Pass the JSON written by exportModel().`);
  checkKeys('the file', json, TOP_KEYS);
  const input = json.input;
  if (!isObject(input)) fail('CORRUPT_DATA', 'input must be { shape: positive integers, range: [min, max] }.');
  checkKeys('input', input, ['shape', 'range']);
  const shape = checkInputShape(input.shape, limits);
  const range = input.range;
  if (!Array.isArray(range) || range.length !== 2 || !range.every((v) => typeof v === 'number' && Number.isFinite(v)) || !(range[0] < range[1])) {
    fail('CORRUPT_DATA', `input.range must be [min, max] with finite min < max, got ${JSON.stringify(range)}.`);
  }
  if (Math.max(Math.abs(range[0]), Math.abs(range[1])) > limits.maxInputMagnitude) {
    fail('LIMIT_EXCEEDED', `input.range ${JSON.stringify(range)} exceeds maxInputMagnitude = ${limits.maxInputMagnitude}; raise limits.maxInputMagnitude to accept it.`);
  }
  const stated = json.lipschitzUpperBound;
  if (stated !== undefined && (typeof stated !== 'number' || !Number.isFinite(stated) || stated < 0)) {
    fail('CORRUPT_DATA', `lipschitzUpperBound must be a non-negative finite number, got ${JSON.stringify(stated)}.`);
  }
  if (json.metadata !== undefined && !isObject(json.metadata)) fail('CORRUPT_DATA', 'metadata must be an object.');
  const network = validateExportedLayers(json.layers, shape, { limits });
  return {
    ...network,
    input: { shape, range: [range[0], range[1]] },
    ...(stated !== undefined ? { statedLipschitzUpperBound: stated as number } : {}),
    metadata: (json.metadata as Record<string, unknown>) ?? {},
    file: json as unknown as ExportedModel,
  };
}
