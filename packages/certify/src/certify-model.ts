import { type ExportedLayer, type ExportedModel, type LipschitzModule, LipschitzError, MODEL_FORMAT, assertPositiveInteger } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';
import { type CertifyResult, type FloatErrorModel, certifyValues, checkEpsilons, checkFloatErrorModel } from './certify';
import { exportedForward } from './exported-forward';
import { type Float32ErrorBound, float32ErrorBound } from './float-error-bound';
import { checkImagesAndLabels, checkLabelValues } from './inputs';
import { modelLipschitzUpperBound } from './model-lipschitz-upper-bound';
import { HOST_FLOAT64_SLACK, type LayerNormReport, type NetworkBound, networkLipschitzUpperBound } from './network-bound';

/** Options of {@link certifyExportedModel}. */
export interface CertifyExportedModelOptions {
  /** ℓ2 radii ε to report certified accuracy at. */
  epsilons: readonly number[];
  /** Examples per forward pass (default 100). */
  batchSize?: number;
  /**
   * Default `'rigorous'`: the certificates hold for the exact network and its float32 evaluation
   * ({@link float32ErrorBound}); `'assume-relative-1e-5'` is the old rule, resting on an assumption.
   */
  floatErrorModel?: FloatErrorModel;
}

/** Options of {@link certifyModel}. */
export interface CertifyModelOptions extends CertifyExportedModelOptions {
  /** Input shape without the batch axis, e.g. `[28, 28, 1]` (conv norms depend on it). */
  inputShape: readonly number[];
}

/**
 * The `certify.json` report (design.md): `clean`, `certified`, `lipschitzUpperBound`, `layers`, plus
 * details a caller may leave out of the JSON file (`examples` holds typed arrays).
 */
export interface CertifyReport {
  /** Clean accuracy, a fraction in [0, 1]. */
  clean: number;
  /** Certified accuracy per ε, keyed `String(ε)`, fractions in [0, 1]. */
  certified: Record<string, number>;
  /** The sound ℓ2 Lipschitz bound the certificates use. */
  lipschitzUpperBound: number;
  /** Per-layer exact norms from {@link networkLipschitzUpperBound}. */
  layers: LayerNormReport[];
  /** Product of the per-layer norms without the float32 slack. */
  exactProduct: number;
  /** The float32 slack factor (see {@link networkLipschitzUpperBound}). */
  safetyFactor: number;
  /** Number of examples. */
  count: number;
  /** How the float32 evaluation is accounted for. */
  floatErrorModel: FloatErrorModel;
  /** `'rigorous'` only: the per-example float32 error bound E(ε) = constant + perRadius·ε. */
  floatError?: Float32ErrorBound;
  /** Per-example margins, radii, predictions (pass `examples.radii` to the attacks' `certifiedRadii`). */
  examples: CertifyResult;
}

function checkBatchSize(fn: string, batchSize: number | undefined): number {
  const b = batchSize ?? 100;
  assertPositiveInteger(fn, 'batchSize', b);
  return b;
}

function checkInputShape(fn: string, images: tf.Tensor, inputShape: readonly number[]): void {
  const got = images.shape.slice(1);
  if (got.length !== inputShape.length || got.some((d, i) => d !== inputShape[i])) {
    throw new LipschitzError('SHAPE_MISMATCH', `${fn}: images have shape [N, ${got.join(', ')}] but the model takes [N, ${inputShape.join(', ')}].`);
  }
}

/** Runs `predict` batch by batch and gathers the logits on the host. */
async function batchedLogits(fn: string, predict: (x: tf.Tensor) => tf.Tensor, images: tf.Tensor, batchSize: number) {
  const n = images.shape[0];
  let c = -1;
  let values = new Float32Array(0);
  for (let offset = 0; offset < n; offset += batchSize) {
    const size = Math.min(batchSize, n - offset);
    const z = tf.tidy(() => predict(tf.slice(images, offset, size)));
    try {
      if (z.rank !== 2 || z.shape[0] !== size) {
        throw new LipschitzError('SHAPE_MISMATCH', `${fn}: the model must output logits [N, C], got shape [${z.shape.join(', ')}].`);
      }
      if (c < 0) {
        c = z.shape[1] as number;
        values = new Float32Array(n * c);
      }
      values.set((await z.data()) as Float32Array, offset * c);
    } finally {
      z.dispose();
    }
  }
  return { values, c };
}

async function report(
  fn: string,
  predict: (x: tf.Tensor) => tf.Tensor,
  images: tf.Tensor,
  labels: tf.Tensor,
  epsilons: readonly number[],
  batchSize: number,
  bound: NetworkBound,
  lipschitz: number,
): Promise<CertifyReport> {
  const n = images.shape[0];
  const y = await labels.data();
  const { values, c } = await batchedLogits(fn, predict, images, batchSize);
  if (n > 0) checkLabelValues(fn, y, c);
  const examples = certifyValues(fn, values, y, n, Math.max(c, 0), lipschitz, epsilons);
  return {
    clean: examples.clean,
    certified: examples.certifiedAccuracy,
    lipschitzUpperBound: lipschitz,
    layers: bound.layers,
    exactProduct: bound.exactProduct,
    safetyFactor: bound.safetyFactor,
    count: n,
    floatErrorModel: 'assume-relative-1e-5',
    examples,
  };
}

/** The default rule: logits and the float32 error bound from the exported layers (see {@link float32ErrorBound}). */
async function rigorousReport(
  fn: string,
  inputShape: readonly number[],
  layers: readonly ExportedLayer[],
  images: tf.Tensor,
  labels: tf.Tensor,
  epsilons: readonly number[],
  batchSize: number,
  ownBound = 0,
  network?: NetworkBound,
): Promise<CertifyReport> {
  const n = images.shape[0];
  const y = await labels.data();
  const bound = await float32ErrorBound(inputShape, layers, images, { batchSize, network });
  if (bound.network.outputShape.length !== 1) {
    throw new LipschitzError('SHAPE_MISMATCH', `${fn}: the model must output logits [N, C], got shape [N, ${bound.network.outputShape.join(', ')}].`);
  }
  if (n > 0) checkLabelValues(fn, y, bound.classes);
  // The max of two sound bounds on the exact network is sound.
  const lipschitz = Number.isFinite(ownBound) ? Math.max(bound.lipschitz, ownBound) : bound.lipschitz;
  const examples = certifyValues(fn, bound.logits, y, n, bound.network.outputShape[0], lipschitz, epsilons, bound.error);
  return {
    clean: examples.clean,
    certified: examples.certifiedAccuracy,
    lipschitzUpperBound: lipschitz,
    layers: bound.network.layers,
    exactProduct: bound.network.exactProduct,
    safetyFactor: 1 + HOST_FLOAT64_SLACK,
    count: n,
    floatErrorModel: 'rigorous',
    floatError: bound.error,
    examples,
  };
}

/** Throws unless every pixel lies in the file's `input.range` (checked on the backend: min and max). */
async function checkInputRange(fn: string, images: tf.Tensor, range: unknown): Promise<void> {
  if (!Array.isArray(range) || range.length !== 2 || !Number.isFinite(range[0]) || !Number.isFinite(range[1]) || !(range[0] <= range[1])) {
    throw new LipschitzError('CORRUPT_DATA', `${fn}: exported.input.range must be [lo, hi] with finite lo <= hi, got ${JSON.stringify(range)}.`);
  }
  if (images.size === 0) return;
  const [lo, hi] = range as [number, number];
  const extremes = tf.tidy(() => tf.stack([tf.min(images), tf.max(images)]));
  const [min, max] = await extremes.data();
  extremes.dispose();
  if (!(min >= lo && max <= hi)) {
    throw new LipschitzError(
      'INVALID_ARGUMENT',
      `${fn}: images span [${min}, ${max}] but the model's input.range is [${lo}, ${hi}]; certificates are only issued for inputs in that range. Scale the images as the model was trained (e.g. pixels / 255).`,
    );
  }
}

/**
 * Certifies a `lipschitz-model/1` network on a labelled set: recomputes the sound bound with
 * {@link networkLipschitzUpperBound} (the file's own `lipschitzUpperBound` is not trusted), refuses
 * images outside the file's `input.range`, runs the forward pass batch by batch with plain tfjs ops,
 * and applies {@link certify}.
 *
 * Default (`floatErrorModel: 'rigorous'`): the forward pass is {@link float32ErrorBound}'s, L is the
 * bound of the exact network (float64 norms × (1 + 1e-9)), and an example is certified at ε iff correct
 * and `margin > (√2·L·ε + √2·(E(0) + E(ε)))(1 + 1e-12)` with E(ε) the proven float32 error bound over the ball
 * (and ε below its overflow radius). Guarantee: on the whole ball, the exact network and its float32
 * evaluation (any summation order, see {@link float32ErrorBound}) both predict the label.
 * `'assume-relative-1e-5'`: the old rule `margin > √2 · ε · L` with the float32 slack inside L.
 *
 * Returns the `certify.json` shape `{ clean, certified: { [ε]: accuracy }, lipschitzUpperBound, layers }`
 * plus `exactProduct`, `safetyFactor`, `count`, `floatErrorModel`, `floatError` and per-example `examples`.
 *
 * Ownership: `exported`, `images` (`[N, ...input.shape]`) and `labels` (int32 `[N]`) are borrowed;
 * the weight tensors built for the forward pass are disposed before returning.
 *
 * @throws LipschitzError `CORRUPT_DATA` (not `lipschitz-model/1`, `input.range` not `[lo, hi]` finite),
 *   `SHAPE_MISMATCH` (images do not match `input.shape`, wrong label count), `INVALID_ARGUMENT` (bad ε,
 *   batch size, labels or `floatErrorModel`; a pixel outside `input.range` or not finite), and whatever
 *   {@link networkLipschitzUpperBound} throws.
 * @example
 * ```ts
 * const report = await certifyExportedModel(exported, images, labels, { epsilons: [1.58, 0.3] });
 * report.certified['1.58'];
 * ```
 * @see Li et al., NeurIPS 2019 (reference-bcop.md §7); design.md (`certify.json`).
 */
export async function certifyExportedModel(
  exported: ExportedModel,
  images: tf.Tensor,
  labels: tf.Tensor,
  options: CertifyExportedModelOptions,
): Promise<CertifyReport> {
  const fn = 'certifyExportedModel';
  if (exported == null || exported.format !== MODEL_FORMAT) {
    throw new LipschitzError('CORRUPT_DATA', `${fn}: exported.format must be "${MODEL_FORMAT}", got ${JSON.stringify(exported?.format)}. Pass the JSON written by exportModel().`);
  }
  checkImagesAndLabels(fn, images, labels);
  const { epsilons, batchSize, floatErrorModel } = options ?? ({} as CertifyExportedModelOptions);
  checkEpsilons(fn, epsilons);
  const b = checkBatchSize(fn, batchSize);
  const model = checkFloatErrorModel(fn, floatErrorModel);
  const bound = networkLipschitzUpperBound(exported);
  checkInputShape(fn, images, exported.input.shape);
  await checkInputRange(fn, images, exported.input?.range);
  if (model === 'rigorous') return rigorousReport(fn, exported.input.shape, exported.layers, images, labels, epsilons, b, 0, bound);
  const forward = exportedForward(exported);
  try {
    return await report(fn, forward.predict, images, labels, epsilons, b, bound, bound.lipschitzUpperBound);
  } finally {
    forward.dispose();
  }
}

/**
 * Certifies a live {@link LipschitzModule} on a labelled set. The model is frozen (and unfrozen
 * afterwards if it was not frozen before).
 *
 * Default (`floatErrorModel: 'rigorous'`): certifies the network `model.exportLayers(inputShape)`
 * exactly as {@link certifyExportedModel} does (its logits come from those layers' float32 forward,
 * not from `model.apply`), with L the larger of the exact-network bound and the module's own
 * `lipschitzUpperBound(inputShape)`. A module has no input range, so none is checked: the float32
 * error bound is computed for the inputs' actual size. `'assume-relative-1e-5'`: the old rule on the
 * logits of `model.apply`, with {@link modelLipschitzUpperBound}. The max of two sound bounds is sound.
 *
 * Ownership: `images` (`[N, ...inputShape]`) and `labels` (int32 `[N]`) are borrowed; the model is
 * not disposed.
 *
 * @throws LipschitzError as {@link certifyExportedModel}.
 * @example
 * ```ts
 * const report = await certifyModel(model, images, labels, { epsilons: [1.58], inputShape: [28, 28, 1] });
 * ```
 * @see Li et al., NeurIPS 2019 (reference-bcop.md §7).
 */
export async function certifyModel(
  model: LipschitzModule,
  images: tf.Tensor,
  labels: tf.Tensor,
  options: CertifyModelOptions,
): Promise<CertifyReport> {
  const fn = 'certifyModel';
  checkImagesAndLabels(fn, images, labels);
  const { epsilons, batchSize, inputShape, floatErrorModel } = options ?? ({} as CertifyModelOptions);
  checkEpsilons(fn, epsilons);
  const b = checkBatchSize(fn, batchSize);
  const floatModel = checkFloatErrorModel(fn, floatErrorModel);
  if (!Array.isArray(inputShape)) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: inputShape must be the input shape without the batch axis, e.g. [28, 28, 1].`);
  }
  checkInputShape(fn, images, inputShape);
  const wasFrozen = model.frozen;
  model.freeze();
  try {
    if (floatModel === 'rigorous') {
      const layers = await model.exportLayers(inputShape);
      const own = await model.lipschitzUpperBound(inputShape);
      return await rigorousReport(fn, inputShape, layers, images, labels, epsilons, b, own);
    }
    const bound = await modelLipschitzUpperBound(model, inputShape);
    return await report(fn, (x) => model.apply(x), images, labels, epsilons, b, bound, bound.lipschitzUpperBound);
  } finally {
    if (!wasFrozen) model.unfreeze();
  }
}
