import * as tfl from '@tensorflow/tfjs-layers';

/** A layer that needs work after each optimizer step (this package's {@link LipschitzLayer}s). */
interface AfterBatch {
  afterBatch(): void | Promise<void>;
}

function hasAfterBatch(layer: unknown): layer is AfterBatch {
  return typeof (layer as Partial<AfterBatch>)?.afterBatch === 'function';
}

/** Every layer of `model`, nested models' layers included, in order. */
function allLayers(model: { layers?: tfl.layers.Layer[] }): tfl.layers.Layer[] {
  const out: tfl.layers.Layer[] = [];
  for (const layer of model.layers ?? []) {
    out.push(layer);
    if (Array.isArray((layer as unknown as { layers?: unknown }).layers)) out.push(...allLayers(layer as unknown as { layers: tfl.layers.Layer[] }));
  }
  return out;
}

/** The `model.fit` callback of this package (see {@link lipschitzCallback}). */
export class LipschitzCallback extends tfl.Callback {
  /** Optimizer steps seen so far. */
  steps = 0;

  override async onBatchEnd(): Promise<void> {
    this.steps++;
    await runAfterBatch(this.model);
  }
}

/**
 * Runs `afterBatch()` of every layer of `model` that has one (re-projection of the layers created with
 * `reproject: true`), outside any gradient tape. What {@link lipschitzCallback} does after each step;
 * call it yourself after each `optimizer.minimize` in a custom training loop.
 *
 * @example
 * ```ts
 * optimizer.minimize(() => loss(model.apply(x, { training: true }))); await runAfterBatch(model);
 * ```
 */
export async function runAfterBatch(model: { layers?: tfl.layers.Layer[] }): Promise<void> {
  for (const layer of allLayers(model)) if (hasAfterBatch(layer)) await layer.afterBatch();
}

/**
 * The callback to pass to `model.fit` for Lipschitz layers: after every batch (after the optimizer's
 * update, before the next forward pass) it calls each layer's `afterBatch()` — what `afterStep` does in
 * `@lipschitz/train`: re-projection of the BCOP/RKO/Björck weights of layers with `reproject: true`
 * (a no-op for the others). Layers without per-step work cost nothing.
 *
 * @example
 * ```ts
 * await model.fit(x, y, { epochs: 1, batchSize: 128, callbacks: [lipschitzCallback()] });
 * ```
 */
export function lipschitzCallback(): LipschitzCallback {
  return new LipschitzCallback();
}
