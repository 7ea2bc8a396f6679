import { join } from 'node:path';
import { buildCliBundle } from '@lipschitz/test-utils';

export { runCli, startCli } from '@lipschitz/test-utils';

/** Builds the robustness CLI as it ships (see `buildCliBundle`) and returns the path of its `cli.js`. */
export function buildCli(outDir?: string): Promise<string> {
  return buildCliBundle(join(import.meta.dirname, '..', 'src', 'cli.ts'), outDir);
}
