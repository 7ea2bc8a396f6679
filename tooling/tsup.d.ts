// Types of tsup.js (plain JavaScript, loaded natively by tsup configs) for the TypeScript that imports it.
import type { Options } from 'tsup';

/** The one tsup preset every public package uses. */
export function packageConfig(overrides?: Options): Options;

/** The preset of the apps' command-line bundles (see tsup.js). */
export function cliBundleConfig(
  packageDir: string,
  bundling: {
    nodeBundleOptions: () => { target: string; mainFields: string[]; banner: { js: string } };
    copyWasmBinaries: (out: string, from?: string) => unknown;
  },
): Options;
