import { LipschitzError, assertOneOf, assertPositiveInteger } from '@lipschitz/core';
import type { OrthogonalizerSpec } from '@lipschitz/orthogonalize';
import { bcopConv2d } from './bcop-conv2d';
import { bjorckDense } from './bjorck-dense';
import { cayleyConv2d } from './cayley-conv2d';
import { CONV_TYPES, type ConvType } from './conv-types';
import { flatten } from './flatten';
import type { LayerModule } from './layer-base';
import type { ConvLayerOptions } from './conv-options';
import { type Orthogonalization, type OrthogonalizationOptions, resolveOrthogonalization } from './orthogonal-weight';
import { maxMin } from './max-min';
import { ossnConv2d } from './ossn-conv2d';
import { plainConv2d } from './plain-conv2d';
import { plainDense } from './plain-dense';
import { relu } from './relu';
import { rkoConv2d } from './rko-conv2d';
import { type Sequential, sequential } from './sequential';
import { svcmConv2d } from './svcm-conv2d';
import { upsampleNearest } from './upsample-nearest';

/** Activations of the model builders. */
export type ActivationType = 'maxmin' | 'relu';

/** Options of the model builders ({@link smallConvNet}, {@link largeConvNet}, {@link fc3}, {@link dcganCritic}). */
export interface ModelOptions {
  /** Convolution type (`'plain'` also makes the dense layers plain). */
  conv: ConvType;
  /** Activation after every layer but the last (default `'maxmin'`). */
  activation?: ActivationType;
  /** Input shape `[h, w, c]` without the batch axis, e.g. `[28, 28, 1]` (MNIST) or `[32, 32, 3]` (CIFAR). */
  inputShape: [number, number, number];
  /** Number of classes (default 10; the critic has one output). */
  numClasses?: number;
  /** Seed of the initial values (default 0); layer i uses `seed + 1000·i`. */
  seed?: number;
  /**
   * How the BCOP/RKO convolutions and Björck dense layers keep their matrices orthogonal (see
   * `ORTHOGONALIZATIONS`): default `'projected'` (rescaling forward + Newton–Schulz retraction after
   * every step; `'reprojected'` with `reproject: true`, `'unrolled'` when only `orthogonalizer` is given).
   */
  orthogonalization?: Orthogonalization;
  /**
   * Orthogonalizer of the BCOP/RKO convolutions and Björck dense layers: the differentiated forward
   * scheme of `'unrolled'` (default there: the reference's 20-step Björck, Gram form; `REFERENCE_BJORCK`
   * for the literal reference) and `'reprojected'`, the freeze-time projection of `'projected'`.
   */
  orthogonalizer?: OrthogonalizerSpec;
  /**
   * Re-project the parameters of the BCOP/RKO convolutions and Björck dense layers after every optimizer
   * step (`model.afterStep`), and use the reduced `REPROJECTED_BJORCK` in the forward pass unless
   * `orthogonalizer` is given (see `bcopConv2d`). Default false. Kept in the layers' configs, so
   * `saveModel`/`loadModel` rebuild it.
   */
  reproject?: boolean;
  /**
   * Newton–Schulz steps of the `'projected'` retraction after every optimizer step, in every BCOP/RKO
   * convolution and Björck dense layer (default 2; see `OrthogonalizationOptions.retractionSteps`): 1 is ~2.5×
   * cheaper on square weights (FC-3's 1024 × 1024). Only with `'projected'`.
   */
  retractionSteps?: number;
}

const ACTIVATIONS: readonly ActivationType[] = ['maxmin', 'relu'];

type ConvFactory = (
  options: ConvLayerOptions & OrthogonalizationOptions,
) => LayerModule;

function convFactory(fn: string, conv: ConvType): ConvFactory {
  switch (conv) {
    case 'bcop':
      return bcopConv2d;
    case 'rko':
      return rkoConv2d;
    case 'ossn':
      return ossnConv2d;
    case 'svcm':
      return svcmConv2d;
    case 'cayley':
      return cayleyConv2d;
    case 'plain':
      return plainConv2d;
    default:
      throw new LipschitzError('INVALID_ARGUMENT', `${fn}: unknown conv '${String(conv)}'.`);
  }
}

interface Builder {
  conv(cin: number, cout: number, kernelSize: number, stride: number, inputSize: [number, number]): LayerModule;
  dense(inputs: number, outputs: number): LayerModule;
  activation(): LayerModule;
}

function builder(fn: string, options: ModelOptions): Builder {
  if (options == null || typeof options !== 'object') {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: pass options { conv, activation, inputShape }.`);
  }
  assertOneOf(fn, 'conv', options.conv, CONV_TYPES);
  assertOneOf(fn, 'activation', options.activation ?? 'maxmin', ACTIVATIONS);
  const shape = options.inputShape;
  if (!Array.isArray(shape) || shape.length !== 3) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: inputShape must be [height, width, channels], got ${String(shape)}.`);
  }
  shape.forEach((d, i) => {
    assertPositiveInteger(fn, `inputShape[${i}]`, d);
  });
  if (options.numClasses !== undefined) assertPositiveInteger(fn, 'numClasses', options.numClasses);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new LipschitzError('INVALID_ARGUMENT', `${fn}: seed must be an integer, got ${String(seed)}.`);
  const makeConv = convFactory(fn, options.conv);
  const plain = options.conv === 'plain';
  const orthogonalized = options.conv === 'bcop' || options.conv === 'rko';
  const orthogonalization = resolveOrthogonalization(fn, options);
  const orthogonalizer = {
    orthogonalization,
    ...(options.orthogonalizer ? { orthogonalizer: options.orthogonalizer } : {}),
    ...(options.reproject ? { reproject: true } : {}),
    ...(options.retractionSteps !== undefined ? { retractionSteps: options.retractionSteps } : {}),
  };
  let index = 0;
  const nextSeed = () => seed + 1000 * index++;
  return {
    conv: (inChannels, outChannels, kernelSize, stride, inputSize) =>
      makeConv({ inChannels, outChannels, kernelSize, stride, seed: nextSeed(), inputSize, ...(orthogonalized ? orthogonalizer : {}) }),
    dense: (inputs, outputs) =>
      plain ? plainDense({ inputs, outputs, seed: nextSeed() }) : bjorckDense({ inputs, outputs, seed: nextSeed(), ...orthogonalizer }),
    activation: () => ((options.activation ?? 'maxmin') === 'relu' ? relu() : maxMin()),
  };
}

function requireMultiple(fn: string, shape: readonly number[], m: number): void {
  if (shape[0] % m !== 0 || shape[1] % m !== 0) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: the input height and width must be multiples of ${m}, got ${shape[0]}×${shape[1]}.`);
  }
}

/** Builds the layers, disposing the ones already built when a later one throws. */
function assemble(name: string, make: (add: (m: LayerModule) => void) => void): Sequential {
  const layers: LayerModule[] = [];
  try {
    make((m) => layers.push(m));
  } catch (error) {
    for (const l of layers) l.dispose();
    throw error;
  }
  return sequential(layers, { name });
}

/**
 * The paper's "Small" network (Wong et al.; reference §6): conv 4×4 s2 → 16, conv 4×4 s2 → 32,
 * flatten, dense → 100, dense → numClasses, with the activation after every layer but the last.
 * With BCOP on MNIST (`inputShape: [28, 28, 1]`) it has exactly 171,014 trainable parameters.
 *
 * Guarantee: as its layers (BCOP/RKO + Björck dense + MaxMin: 1-Lipschitz; the bound is
 * `model.lipschitzUpperBound(inputShape)`).
 *
 * Ownership: the caller owns the returned model (`dispose()`). Throws `INVALID_ARGUMENT` on bad
 * options (height and width must be multiples of 4).
 *
 * @example
 * ```ts
 * const model = smallConvNet({ conv: 'bcop', activation: 'maxmin', inputShape: [28, 28, 1] });
 * ```
 * @see Li et al., NeurIPS 2019, §5; Wong, Schmidt, Metzen, Kolter 2018 (the architecture).
 */
export function smallConvNet(options: ModelOptions): Sequential {
  const fn = 'smallConvNet';
  const b = builder(fn, options);
  const [h, w, c] = options.inputShape;
  requireMultiple(fn, options.inputShape, 4);
  return assemble(fn, (add) => {
    add(b.conv(c, 16, 4, 2, [h, w]));
    add(b.activation());
    add(b.conv(16, 32, 4, 2, [h / 2, w / 2]));
    add(b.activation());
    add(flatten());
    add(b.dense((h / 4) * (w / 4) * 32, 100));
    add(b.activation());
    add(b.dense(100, options.numClasses ?? 10));
  });
}

/**
 * The paper's "Large" network (reference §6): conv 3×3 → 32, conv 4×4 s2 → 32, conv 3×3 → 64,
 * conv 4×4 s2 → 64, flatten, dense → 512, dense → 512, dense → numClasses. With BCOP it has exactly
 * 2,145,482 (MNIST `[28, 28, 1]`) or 2,637,002 (CIFAR `[32, 32, 3]`) trainable parameters.
 *
 * Ownership, guarantee and throws as {@link smallConvNet}.
 *
 * @example
 * ```ts
 * const model = largeConvNet({ conv: 'bcop', inputShape: [32, 32, 3] });
 * ```
 * @see Li et al., NeurIPS 2019, §5; Wong et al. 2018.
 */
export function largeConvNet(options: ModelOptions): Sequential {
  const fn = 'largeConvNet';
  const b = builder(fn, options);
  const [h, w, c] = options.inputShape;
  requireMultiple(fn, options.inputShape, 4);
  return assemble(fn, (add) => {
    add(b.conv(c, 32, 3, 1, [h, w]));
    add(b.activation());
    add(b.conv(32, 32, 4, 2, [h, w]));
    add(b.activation());
    add(b.conv(32, 64, 3, 1, [h / 2, w / 2]));
    add(b.activation());
    add(b.conv(64, 64, 4, 2, [h / 2, w / 2]));
    add(b.activation());
    add(flatten());
    add(b.dense((h / 4) * (w / 4) * 64, 512));
    add(b.activation());
    add(b.dense(512, 512));
    add(b.activation());
    add(b.dense(512, options.numClasses ?? 10));
  });
}

/**
 * The FC-3 baseline (Anil et al. 2019; reference §6): flatten, dense → 1024 → 1024 → 1024 →
 * numClasses (Björck dense, or plain with `conv: 'plain'`; the conv type is otherwise unused).
 *
 * Ownership, guarantee and throws as {@link smallConvNet}.
 *
 * @example
 * ```ts
 * const model = fc3({ conv: 'bcop', inputShape: [28, 28, 1] });
 * ```
 * @see C. Anil, J. Lucas, R. Grosse, ICML 2019.
 */
export function fc3(options: ModelOptions): Sequential {
  const fn = 'fc3';
  const b = builder(fn, { ...options, conv: options?.conv === 'plain' ? 'plain' : 'bcop' });
  assertOneOf(fn, 'conv', options.conv, CONV_TYPES);
  const [h, w, c] = options.inputShape;
  return assemble(fn, (add) => {
    add(flatten());
    add(b.dense(h * w * c, 1024));
    add(b.activation());
    add(b.dense(1024, 1024));
    add(b.activation());
    add(b.dense(1024, 1024));
    add(b.activation());
    add(b.dense(1024, options.numClasses ?? 10));
  });
}

/**
 * The DCGAN critic of the Wasserstein experiments (reference §6): nearest upsampling to 64×64 (when
 * the input is smaller; an integer factor f, which multiplies the Lipschitz bound by f), conv 4×4 s2
 * → 64 → 128 → 256 → 512 (activation after each), flatten (8192), dense → 1. `numClasses` is ignored.
 *
 * Guarantee: 1-Lipschitz for 64×64 inputs with BCOP/RKO; f-Lipschitz with upsampling (the bound says
 * so). Ownership and throws as {@link smallConvNet} (the input must divide 64).
 *
 * @example
 * ```ts
 * const critic = dcganCritic({ conv: 'bcop', activation: 'maxmin', inputShape: [64, 64, 3] });
 * ```
 * @see Li et al., NeurIPS 2019, §5.3; Radford et al. 2016 (DCGAN).
 */
export function dcganCritic(options: ModelOptions): Sequential {
  const fn = 'dcganCritic';
  const b = builder(fn, options);
  const [h, w, c] = options.inputShape;
  if (h !== w || 64 % h !== 0) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: the input must be square with a size that divides 64 (e.g. 32 or 64), got ${h}×${w}.`);
  }
  return assemble(fn, (add) => {
    if (h !== 64) add(upsampleNearest({ factor: 64 / h }));
    const channels = [c, 64, 128, 256, 512];
    let size = 64;
    for (let i = 0; i < 4; i++) {
      add(b.conv(channels[i], channels[i + 1], 4, 2, [size, size]));
      add(b.activation());
      size /= 2;
    }
    add(flatten());
    add(b.dense(4 * 4 * 512, 1));
  });
}
