import { networkLipschitzUpperBound } from '@lipschitz/certify';
import { type ExportedLayer, type ExportedModel, LipschitzError, MODEL_FORMAT, encodeTensor } from '@lipschitz/core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { KernelValues } from './lipschitz-layer';

/** Options of {@link toLipschitzModel}. */
export interface ToLipschitzModelOptions {
  /** Input shape without the batch axis (default: the model's, when it is fully known). */
  inputShape?: readonly number[];
  /** The input range (default `[0, 1]`, images). */
  range?: [number, number];
  /** Free-form metadata stored in the file (e.g. the dataset, the training run). */
  metadata?: Record<string, unknown>;
}

type AnyConfig = Record<string, unknown>;

const fn = 'lipschitzLayersOf';

function refuse(layer: tfl.layers.Layer, why: string): never {
  throw new LipschitzError(
    'UNSUPPORTED_CONFIGURATION',
    `${fn}: layer '${layer.name}' (${layer.getClassName()}) ${why}; it cannot be bounded soundly, so the model is refused. Supported: BcopConv2d, RkoConv2d, OssnConv2d, BjorckDense, MaxMin, GroupSort, InvertibleDownsample, CircularPad + Conv2D 'valid', Conv2D (stride 1, 'same'/'valid'), Dense, Flatten, ReLU (linear or relu activations).`,
  );
}

/** `[]` for a linear activation, `[relu]` for relu; refuses any other activation. */
function activationLayers(layer: tfl.layers.Layer, config: AnyConfig): ExportedLayer[] {
  const activation = config.activation ?? 'linear';
  if (activation === 'linear') return [];
  if (activation === 'relu') return [{ type: 'relu' }];
  return refuse(layer, `has activation ${JSON.stringify(activation)} (only linear and relu are supported)`);
}

async function weightValues(layer: tfl.layers.Layer): Promise<{ shape: number[]; values: Float32Array }[]> {
  const weights = layer.getWeights();
  return Promise.all(weights.map(async (w) => ({ shape: [...w.shape], values: (await w.data()) as Float32Array })));
}

/** A plain tfjs Conv2D (optionally after a CircularPad of the same kernel size) as `lipschitz-model/1` layers. */
async function plainConv(layer: tfl.layers.Layer, padding: 'circular' | 'zero-same' | 'valid'): Promise<ExportedLayer[]> {
  const config = layer.getConfig() as AnyConfig;
  const strides = config.strides as number[] | number;
  const dilation = config.dilationRate as number[] | number;
  const ones = (v: number[] | number | undefined) => v == null || (Array.isArray(v) ? v.every((d) => d === 1) : v === 1);
  if (!ones(strides)) refuse(layer, `has strides ${JSON.stringify(strides)} (only 1; use invertibleDownsample or a BCOP stride)`);
  if (!ones(dilation)) refuse(layer, `has dilationRate ${JSON.stringify(dilation)} (only 1)`);
  if ((config.dataFormat ?? 'channelsLast') !== 'channelsLast') refuse(layer, 'is channelsFirst (only channelsLast)');
  const [kernel, bias] = await weightValues(layer);
  const out: ExportedLayer = { type: 'conv2d', padding, kernel: encodeTensor(kernel.shape, kernel.values) };
  if (bias) out.bias = encodeTensor(bias.shape, bias.values);
  return [out, ...activationLayers(layer, config)];
}

function kernelLayer(type: 'conv2d' | 'dense', values: KernelValues): ExportedLayer {
  const bias = values.bias ? { bias: encodeTensor([values.bias.length], values.bias) } : {};
  return type === 'conv2d'
    ? { type: 'conv2d', padding: 'circular', kernel: encodeTensor(values.shape, values.kernel), ...bias }
    : { type: 'dense', weight: encodeTensor(values.shape, values.kernel), ...bias };
}

/**
 * The `lipschitz-model/1` layer list of a sequential-chain `LayersModel` (each layer's output feeds the
 * next): this package's layers with the kernels they apply now, and the plain tfjs layers whose
 * Lipschitz constant the format can bound exactly. A layer it cannot describe is refused by name —
 * never skipped. Reads the weights with `await data()`.
 *
 * @throws LipschitzError `UNSUPPORTED_CONFIGURATION` naming the first unsupported layer (or a model
 *   that is not a chain).
 */
export async function lipschitzLayersOf(model: tfl.LayersModel): Promise<ExportedLayer[]> {
  const layers = model.layers;
  const out: ExportedLayer[] = [];
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i];
    if (i > 0 && layer.inboundNodes.some((node) => node.inboundLayers.length !== 1 || node.inboundLayers[0] !== layers[i - 1])) {
      refuse(layer, 'does not take the previous layer\'s output (only sequential chains are supported)');
    }
    const config = layer.getConfig() as AnyConfig;
    const cls = layer.getClassName();
    switch (cls) {
      case 'InputLayer':
        break;
      case 'BcopConv2d':
      case 'RkoConv2d':
      case 'OssnConv2d': {
        const strides = config.strides as number;
        if (strides > 1) out.push({ type: 'invertibleDownsample', factor: strides });
        out.push(kernelLayer('conv2d', await (layer as unknown as { kernelValues(): Promise<KernelValues> }).kernelValues()));
        break;
      }
      case 'BjorckDense':
        out.push(kernelLayer('dense', await (layer as unknown as { kernelValues(): Promise<KernelValues> }).kernelValues()));
        break;
      case 'MaxMin':
        out.push({ type: 'maxMin' });
        break;
      case 'GroupSort':
        out.push({ type: 'groupSort', groupSize: config.groupSize as number });
        break;
      case 'InvertibleDownsample':
        out.push({ type: 'invertibleDownsample', factor: config.factor as number });
        break;
      case 'CircularPad': {
        const next = layers[i + 1];
        const [kh, kw] = config.kernelSize as [number, number];
        const nextConfig = next?.getConfig() as AnyConfig | undefined;
        const nk = nextConfig?.kernelSize as number[] | number | undefined;
        const [nkh, nkw] = Array.isArray(nk) ? nk : [nk, nk];
        if (next?.getClassName() !== 'Conv2D' || nextConfig?.padding !== 'valid' || nkh !== kh || nkw !== kw) {
          refuse(layer, `is not followed by a Conv2D with padding 'valid' and kernelSize [${kh}, ${kw}] (circular padding is bounded together with its convolution)`);
        }
        out.push(...(await plainConv(next, 'circular')));
        i++;
        break;
      }
      case 'Conv2D': {
        const padding = config.padding;
        if (padding !== 'same' && padding !== 'valid') refuse(layer, `has padding ${JSON.stringify(padding)}`);
        out.push(...(await plainConv(layer, padding === 'same' ? 'zero-same' : 'valid')));
        break;
      }
      case 'Dense': {
        const [weight, bias] = await weightValues(layer);
        if (weight.shape.length !== 2) refuse(layer, 'is not applied to a flat input');
        const dense: ExportedLayer = { type: 'dense', weight: encodeTensor(weight.shape, weight.values) };
        if (bias) dense.bias = encodeTensor(bias.shape, bias.values);
        out.push(dense, ...activationLayers(layer, config));
        break;
      }
      case 'Flatten':
        if ((config.dataFormat ?? 'channelsLast') !== 'channelsLast') refuse(layer, 'is channelsFirst (only channelsLast)');
        out.push({ type: 'flatten' });
        break;
      case 'ReLU':
        if (config.maxValue != null) refuse(layer, `has maxValue ${String(config.maxValue)}`);
        out.push({ type: 'relu' });
        break;
      case 'Activation':
        out.push(...activationLayers(layer, config));
        break;
      default:
        refuse(layer, 'is not a layer this package can bound');
    }
  }
  return out;
}

/** The input shape (without batch) of `model`, or `inputShape`; throws for `caller` when unknown. */
export function modelInputShape(caller: string, model: tfl.LayersModel, inputShape?: readonly number[]): number[] {
  if (inputShape !== undefined) {
    if (!Array.isArray(inputShape) || inputShape.some((d) => !Number.isInteger(d) || d <= 0)) {
      throw new LipschitzError('INVALID_ARGUMENT', `${caller}: inputShape must be the input shape without the batch axis, e.g. [28, 28, 1].`);
    }
    return [...inputShape];
  }
  if (model.inputs.length !== 1) throw new LipschitzError('UNSUPPORTED_CONFIGURATION', `${caller}: the model has ${model.inputs.length} inputs; only single-input models are supported.`);
  const shape = model.inputs[0].shape.slice(1);
  if (shape.some((d) => d == null)) {
    throw new LipschitzError('INVALID_ARGUMENT', `${caller}: the model's input shape [${shape.join(', ')}] is not fully known; pass inputShape, e.g. [28, 28, 1].`);
  }
  return shape as number[];
}

/**
 * Converts a trained `LayersModel` (a chain of this package's layers and plain Conv2D/Dense/Flatten/ReLU
 * layers) to a `lipschitz-model/1` object — the format `robustness certify`, the web page and the
 * independent verifier read — with the kernels it applies and, as `lipschitzUpperBound`, the bound of the
 * exact network (`networkLipschitzUpperBound(...).lipschitzUpperBound` of `@lipschitz/model-format`, the L
 * `certifyExportedModel` recomputes and reports; the value in a file is advisory).
 *
 * Ownership: borrows the model. Reads the weights with `await data()`.
 *
 * @throws LipschitzError `UNSUPPORTED_CONFIGURATION` naming a layer it cannot describe;
 *   `INVALID_ARGUMENT` when the input shape is unknown and not given.
 * @example
 * ```ts
 * const exported = await toLipschitzModel(model, { inputShape: [28, 28, 1] });
 * await writeFile('model.json', JSON.stringify(exported));
 * ```
 */
export async function toLipschitzModel(model: tfl.LayersModel, options: ToLipschitzModelOptions = {}): Promise<ExportedModel> {
  const shape = modelInputShape('toLipschitzModel', model, options.inputShape);
  const layers = await lipschitzLayersOf(model);
  const bound = networkLipschitzUpperBound({ input: { shape }, layers });
  const exported: ExportedModel = {
    format: MODEL_FORMAT,
    input: { shape, range: options.range ?? [0, 1] },
    layers,
    lipschitzUpperBound: bound.lipschitzUpperBound,
  };
  if (options.metadata) exported.metadata = { ...options.metadata };
  return exported;
}

