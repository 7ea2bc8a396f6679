import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BackendName, type PreparedBackend, prepareBackend } from '@lipschitz/backends';

/**
 * Prepares the backend for the CLI. The built CLI is one bundle with the wasm binaries copied beside it
 * (tsup.config.ts), so it points tfjs-backend-wasm there; from sources (tests) the package finds its own.
 */
export function prepareCliBackend(backend: BackendName): Promise<PreparedBackend> {
  const here = dirname(fileURLToPath(import.meta.url));
  const bundled = existsSync(join(here, 'tfjs-backend-wasm.wasm'));
  return prepareBackend(backend, bundled ? { wasmPaths: `${here}/` } : {});
}
