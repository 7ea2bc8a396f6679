import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BackendName, type PreparedBackend, prepareBackend } from '@lipschitz/backends';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Prepares the backend for a CLI. A built CLI is one bundle with the wasm binaries copied beside it
 * (`cliBundleConfig` in tooling/tsup.js), so tfjs-backend-wasm is pointed there; from sources (tests)
 * the package finds its own binaries. Safe to call more than once per process.
 */
export function prepareCliBackend(backend: BackendName): Promise<PreparedBackend> {
  const here = dirname(fileURLToPath(import.meta.url));
  const bundled = existsSync(join(here, 'tfjs-backend-wasm.wasm'));
  // The paths can only be set before wasm first starts; later calls (one CLI command running several
  // stages) must not pass them again.
  const wasmStarted = tf.findBackend('wasm') != null;
  return prepareBackend(backend, bundled && !wasmStarted ? { wasmPaths: `${here}/` } : {});
}
