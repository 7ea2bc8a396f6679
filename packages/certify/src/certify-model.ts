import { type ExportedModel, type LipschitzModule, LipschitzError, assertPositiveInteger } from '@lipschitz/core';
import {
  type CertifyResult,
  type FloatErrorModel,
  HOST_NORM_SLACK,
  type LayerNormReport,
  type ModelSizeLimits,
  type NetworkBound,
  type ValidatedNetwork,
  boundValidatedNetwork,
  certifyLogitValues,
  exportedForward,
  moduleLipschitzBound,
  validateExportedModel,
} from '@lipschitz/model-format';
import * as tf from '@tensorflow/tfjs-core';
import { checkEpsilons, checkFloatErrorModel } from './certify';
import { type Float32ErrorBound, float32ErrorBound } from './float-error-bound';
import { checkImagesAndLabels, checkLabelValues } from './inputs';

/**
 * A per-example allowance for the floating-point evaluation error: for the batch `images` (borrowed,
 * `[b, ...inputShape]`, examples `offset … offset + b − 1` of the set) of the validated `network` (the
 * exact layers certified, decoded), return `δ_n ≥ ‖f̃(x_n) − f(x_n)‖₂`, f̃ the float network as
 * evaluated, f the exact one, one finite δ ≥ 0 per example. The certificate rule then certifies only
 * when `margin − 2·δ > √2·ε·L` (see `certifyLogitValues` of `@lipschitz/model-format`). Used with
 * `floatErrorModel: 'assume-relative-1e-5'`; the default `'rigorous'` computes its own proven bound
 * over the whole ball ({@link float32ErrorBound}).
 */
export type FloatErrorBound = (batch: {
  network: ValidatedNetwork;
  images: tf.Tensor;
  logits: Float32Array;
  offset: number;
  bound: NetworkBound;
}) => ArrayLike<number> | Promise<ArrayLike<number>>;

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
  /**
   * Per-example float-error allowance δ(x) subtracted (twice) from the margin; default none (δ = 0).
   * Only with `floatErrorModel: 'assume-relative-1e-5'`.
   */
  floatErrorBound?: FloatErrorBound;
  /** Also return every circular conv's singular values in `bound.spectra` (computed in the same pass as the bound). */
  singularValues?: boolean;
  /** Size limits of the file (default `DEFAULT_MODEL_SIZE_LIMITS` of `@lipschitz/model-format`). */
  limits?: Partial<ModelSizeLimits>;
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
  /**
   * The sound ℓ2 Lipschitz bound the certificates use: `bound.lipschitzUpperBound` (the exact network)
   * under `'rigorous'`, `bound.assumedFloat32Bound` (with the float32 safety factor) under the old rule.
   */
  lipschitzUpperBound: number;
  /** Per-layer exact norms from `networkLipschitzUpperBound`. */
  layers: LayerNormReport[];
  /** Product of the per-layer norms without any slack. */
  exactProduct: number;
  /**
   * The slack factor of `lipschitzUpperBound` over `exactProduct` (see the slack policy of
   * `@lipschitz/model-format`): `(1 + HOST_NORM_SLACK)^D` under `'rigorous'`, `bound.safetyFactor` otherwise.
   */
  safetyFactor: number;
  /** Number of examples. */
  count: number;
  /** How the float32 evaluation is accounted for. */
  floatErrorModel: FloatErrorModel;
  /** `'rigorous'` only: the per-example float32 error bound E(ε) = constant + perRadius·ε. */
  floatError?: Float32ErrorBound;
  /** Per-example margins, radii, predictions (pass `examples.radii` to the attacks' `certifiedRadii`). */
  examples: CertifyResult;
  /**
   * The float32 logits the certificates are about, `[count, classes]` row-major: under `'rigorous'` those of
   * the validated layers' forward ({@link float32ErrorBound}), under the old rule those of the forward it ran
   * (the file's `exportedForward`, or `model.apply` for {@link certifyModel}). Training-time evaluation
   * computes its test loss from them.
   */
  logits: Float32Array;
  /** The whole bound (with `spectra` when `singularValues: true`), computed once for this run. */
  bound: NetworkBound;
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

async function checkInputRange(fn: string, images: tf.Tensor, range: readonly [number, number]): Promise<void> {
  if (images.size === 0) return;
  const extremes = tf.tidy(() => tf.stack([tf.min(images), tf.max(images)]));
  const [min, max] = await extremes.data();
  extremes.dispose();
  if (!(min >= range[0] && max <= range[1])) {
    throw new LipschitzError(
      'INVALID_ARGUMENT',
      `${fn}: images span [${min}, ${max}] but the model's input.range is [${range[0]}, ${range[1]}]; certificates are only issued for inputs in that range. Scale the images as the model was trained (e.g. pixels / 255).`,
    );
  }
}

/** Runs `predict` batch by batch and gathers the logits (and the float-error allowances) on the host. */
async function batchedLogits(
  fn: string,
  predict: (x: tf.Tensor) => tf.Tensor,
  images: tf.Tensor,
  batchSize: number,
  allowance: ((batch: tf.Tensor, logits: Float32Array, offset: number) => Promise<ArrayLike<number>>) | null,
) {
  const n = images.shape[0];
  let c = -1;
  let values = new Float32Array(0);
  const floatErrors = allowance ? new Float64Array(n) : undefined;
  for (let offset = 0; offset < n; offset += batchSize) {
    const size = Math.min(batchSize, n - offset);
    const batch = tf.slice(images, offset, size);
    try {
      const z = tf.tidy(() => predict(batch));
      let logits: Float32Array;
      try {
        if (z.rank !== 2 || z.shape[0] !== size) {
          throw new LipschitzError('SHAPE_MISMATCH', `${fn}: the model must output logits [N, C], got shape [${z.shape.join(', ')}].`);
        }
        if (c < 0) {
          c = z.shape[1] as number;
          values = new Float32Array(n * c);
        }
        logits = (await z.data()) as Float32Array;
        values.set(logits, offset * c);
      } finally {
        z.dispose();
      }
      if (allowance && floatErrors) {
        const deltas = await allowance(batch, logits, offset);
        if (deltas == null || deltas.length !== size) {
          throw new LipschitzError('INVALID_ARGUMENT', `${fn}: floatErrorBound returned ${deltas?.length} values for a batch of ${size}; return one δ per example.`);
        }
        floatErrors.set(Array.from(deltas), offset);
      }
    } finally {
      batch.dispose();
    }
  }
  return { values, c, floatErrors };
}

async function report(
  fn: string,
  predict: (x: tf.Tensor) => tf.Tensor,
  images: tf.Tensor,
  labels: tf.Tensor,
  options: CertifyExportedModelOptions,
  batchSize: number,
  network: ValidatedNetwork,
  bound: NetworkBound,
): Promise<CertifyReport> {
  const n = images.shape[0];
  const y = await labels.data();
  const provider = options.floatErrorBound;
  const allowance = provider ? async (batch: tf.Tensor, logits: Float32Array, offset: number) => provider({ network, images: batch, logits, offset, bound }) : null;
  const { values, c, floatErrors } = await batchedLogits(fn, predict, images, batchSize, allowance);
  if (n > 0) checkLabelValues(fn, y, c);
  const examples = certifyLogitValues(fn, values, y, n, Math.max(c, 0), bound.assumedFloat32Bound, options.epsilons, floatErrors);
  return {
    clean: examples.clean,
    certified: examples.certified,
    lipschitzUpperBound: bound.assumedFloat32Bound,
    layers: bound.layers,
    exactProduct: bound.exactProduct,
    safetyFactor: bound.safetyFactor,
    count: n,
    floatErrorModel: 'assume-relative-1e-5',
    examples,
    logits: values,
    bound,
  };
}

/**
 * The default rule: logits and the float32 error bound of the validated network ({@link float32ErrorBound},
 * whose forward is model-format's `exportedForward` layer by layer), certified by `certifyLogitValues`
 * with L = `bound.lipschitzUpperBound` and the error ball E(ε).
 */
async function rigorousReport(
  fn: string,
  images: tf.Tensor,
  labels: tf.Tensor,
  options: CertifyExportedModelOptions,
  batchSize: number,
  network: ValidatedNetwork,
  bound: NetworkBound,
): Promise<CertifyReport> {
  if (options.floatErrorBound !== undefined) {
    throw new LipschitzError(
      'INVALID_ARGUMENT',
      `${fn}: floatErrorBound (a δ per example) goes with floatErrorModel: 'assume-relative-1e-5'; the default 'rigorous' computes its own float32 error bound.`,
    );
  }
  if (network.outputShape.length !== 1) {
    throw new LipschitzError('SHAPE_MISMATCH', `${fn}: the model must output logits [N, C], got shape [N, ${network.outputShape.join(', ')}].`);
  }
  const n = images.shape[0];
  const y = await labels.data();
  const layers = network.layers.map((row) => row.layer);
  // the host float64 logits only where they can decide a certificate at options.epsilons (same counts as for all)
  const result = await float32ErrorBound(network.inputShape, layers, images, { batchSize, network: bound, validated: network, center: { epsilons: options.epsilons } });
  const c = network.outputShape[0];
  if (n > 0) checkLabelValues(fn, y, c);
  const examples = certifyLogitValues(fn, result.logits, y, n, c, bound.lipschitzUpperBound, options.epsilons, result.error);
  return {
    clean: examples.clean,
    certified: examples.certified,
    lipschitzUpperBound: bound.lipschitzUpperBound,
    layers: bound.layers,
    exactProduct: bound.exactProduct,
    safetyFactor: (1 + HOST_NORM_SLACK) ** bound.linearLayers,
    count: n,
    floatErrorModel: 'rigorous',
    floatError: result.error,
    examples,
    logits: result.logits,
    bound,
  };
}

/**
 * Certifies a `lipschitz-model/1` network on a labelled set: validates the file with the one validator
 * (`validateExportedModel` of `@lipschitz/model-format`: fields, sizes before any allocation, shapes,
 * finite weights), recomputes the sound bound (`networkLipschitzUpperBound`; the file's own
 * `lipschitzUpperBound` is not trusted), refuses images outside the file's `input.range`, runs the
 * float32 forward pass batch by batch with plain tfjs ops (`exportedForward`), and applies the
 * certificate rule (`certifyLogitValues`).
 *
 * Default (`floatErrorModel: 'rigorous'`): the forward pass is {@link float32ErrorBound}'s, L is the
 * bound of the exact network (`lipschitzUpperBound`: float64 norms × (1 + 1e-12) each), and an example
 * is certified at ε iff correct and `margin > (√2·L·ε + √2·(e₀ + E(ε)))(1 + 1e-12)` with E(ε) the
 * proven float32 error bound over the ball (and ε below its overflow radius), the margin that of the
 * exact network's logits computed in float64 on the host and e₀ (~1e-12) their proven error. Guarantee: on the whole
 * ball, the exact network and its float32 evaluation (any summation order, see {@link float32ErrorBound})
 * both predict the label. `'assume-relative-1e-5'`: the old rule `margin − 2·δ > √2 · ε · L` with the
 * float32 slack inside L (δ = 0 unless a `floatErrorBound` is given).
 *
 * Returns the `certify.json` shape `{ clean, certified: { [ε]: accuracy }, lipschitzUpperBound, layers }`
 * plus `exactProduct`, `safetyFactor`, `count`, `floatErrorModel`, `floatError`, per-example `examples`,
 * the `logits` certified and the whole `bound`.
 *
 * Ownership: `exported`, `images` (`[N, ...input.shape]`) and `labels` (int32 `[N]`) are borrowed;
 * the weight tensors built for the forward pass are disposed before returning.
 *
 * @throws LipschitzError `CORRUPT_DATA`/`LIMIT_EXCEEDED` (an invalid file, same code and message as
 *   every other reader), `SHAPE_MISMATCH` (images do not match `input.shape`, wrong label count),
 *   `INVALID_ARGUMENT` (bad ε, batch size or labels; images outside `input.range`).
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
  checkImagesAndLabels(fn, images, labels);
  const opts = options ?? ({} as CertifyExportedModelOptions);
  checkEpsilons(fn, opts.epsilons);
  const b = checkBatchSize(fn, opts.batchSize);
  const floatModel = checkFloatErrorModel(fn, opts.floatErrorModel);
  const validated = validateExportedModel(exported, { limits: opts.limits });
  checkInputShape(fn, images, validated.input.shape);
  await checkInputRange(fn, images, validated.input.range);
  const bound = boundValidatedNetwork(validated, { singularValues: opts.singularValues });
  if (floatModel === 'rigorous') return rigorousReport(fn, images, labels, opts, b, validated, bound);
  const forward = exportedForward(validated, fn);
  try {
    return await report(fn, forward.predict, images, labels, opts, b, validated, bound);
  } finally {
    forward.dispose();
  }
}

/**
 * Certifies a live {@link LipschitzModule} on a labelled set. The model is frozen for the forward
 * pass (and unfrozen afterwards if it was not frozen before). The bound is the module's certificate
 * bound, `moduleLipschitzBound` of `@lipschitz/model-format`: the bound of `model.exportLayers(inputShape)`,
 * the same layers `exportModel` writes and `certifyExportedModel` recomputes the bound of. `robustness
 * certify --run` and training-time `evaluate` of `@lipschitz/train` certify through this function.
 * Default (`floatErrorModel: 'rigorous'`): certifies the network `model.exportLayers(inputShape)` exactly
 * as {@link certifyExportedModel} does (its logits come from those layers' float32 forward, not from
 * `model.apply`), with L its `lipschitzUpperBound`. A module has no input range, so none is checked: the
 * float32 error bound is computed for the inputs' actual size. `'assume-relative-1e-5'`: the old rule on
 * the logits of `model.apply`.
 *
 * Ownership: `images` (`[N, ...inputShape]`) and `labels` (int32 `[N]`) are borrowed; the model is
 * not disposed.
 *
 * @throws LipschitzError as {@link certifyExportedModel}, and what the module's `exportLayers` throws.
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
  const opts = options ?? ({} as CertifyModelOptions);
  checkEpsilons(fn, opts.epsilons);
  const b = checkBatchSize(fn, opts.batchSize);
  const floatModel = checkFloatErrorModel(fn, opts.floatErrorModel);
  const { inputShape } = opts;
  if (!Array.isArray(inputShape)) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: inputShape must be the input shape without the batch axis, e.g. [28, 28, 1].`);
  }
  checkInputShape(fn, images, inputShape);
  const wasFrozen = model.frozen;
  model.freeze();
  try {
    const { network, ...bound } = await moduleLipschitzBound(model, inputShape, { limits: opts.limits, singularValues: opts.singularValues });
    if (floatModel === 'rigorous') return await rigorousReport(fn, images, labels, opts, b, network, bound);
    return await report(fn, (x) => model.apply(x), images, labels, opts, b, network, bound);
  } finally {
    if (!wasFrozen) model.unfreeze();
  }
}
