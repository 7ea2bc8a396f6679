import { assertNotDisposed } from '@lipschitz/core';
import { LayerBase } from './layer-base';

/**
 * Base class of parameter-free modules (activations, reshapes). Subclasses implement `forward`,
 * `checkInputShape`, `outputShape`, `exportLayers`, and `exactLipschitz(inputShape)` — the exact
 * Lipschitz constant of the map, which `lipschitzUpperBound` returns.
 */
export abstract class StatelessLayer extends LayerBase {
  /** The exact ℓ2 Lipschitz constant for inputs of `inputShape` (1 for activations and permutations). */
  protected exactLipschitz(_inputShape: readonly number[]): number {
    return 1;
  }

  async lipschitzUpperBound(inputShape: readonly number[]): Promise<number> {
    assertNotDisposed(`${this.config.type}.lipschitzUpperBound`, this.disposed);
    this.checkInputShape(`${this.config.type}.lipschitzUpperBound`, inputShape);
    return this.exactLipschitz(inputShape);
  }
}
