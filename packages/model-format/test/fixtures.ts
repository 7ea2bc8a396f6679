import type { ExportedLayer } from '@lipschitz/core';
import { type ExportedForward, exportedForward } from '../src/load-exported-model';
import { validateExportedLayers } from '../src/validate-model';

// The seeded layers and the model wrapper are shared with the other packages' tests (one copy, in test-utils).
export { exportedConv as conv, exportedDense as dense, exportedModel as model, normalValues } from '@lipschitz/test-utils';

/** The float32 forward pass of `layers` on inputs of `inputShape` (validated first). */
export function forwardOf(layers: ExportedLayer[], inputShape: number[]): ExportedForward {
  return exportedForward(validateExportedLayers(layers, inputShape));
}
