import { type ExportedModel, type LipschitzModule, LipschitzError, MODEL_FORMAT } from '@lipschitz/core';
import { networkLipschitzUpperBound } from '@lipschitz/model-format';

export { type LoadedExportedModel, loadExportedModel } from '@lipschitz/model-format';

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
 * frozen kernels when the model is frozen) and, as `lipschitzUpperBound`, the bound of the exact network
 * at `inputShape`: `networkLipschitzUpperBound(...).lipschitzUpperBound` of `@lipschitz/model-format`
 * (the product of the float64 per-layer norms, each × (1 + 1e-12)) — the L that `certifyExportedModel`,
 * `robustness certify` and training-time evaluation report for the same network (they recompute it; the
 * value in a file is advisory). Files written before this change stated the old rule's bound (× (1 + 1e-5) per
 * conv/dense layer); they stay valid. `JSON.stringify` it to write the file.
 *
 * Ownership: borrows the model. Throws `INVALID_ARGUMENT` on a bad range or shape, what the
 * model's `exportLayers` throws (`UNSUPPORTED_CONFIGURATION` for layers the format cannot express), and
 * what the validator throws on the exported layers (`CORRUPT_DATA`, `LIMIT_EXCEEDED`).
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
  const { lipschitzUpperBound } = networkLipschitzUpperBound({ input: { shape }, layers });
  return {
    format: MODEL_FORMAT,
    input: { shape: [...shape], range: [range[0], range[1]] },
    layers,
    lipschitzUpperBound,
    metadata: options.metadata ?? {},
  };
}
