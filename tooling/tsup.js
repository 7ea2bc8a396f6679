// @ts-check
/**
 * The one tsup preset every public package uses: ESM only, `.d.ts`, sourcemaps, Node 20 target.
 * `@tensorflow/*` and every dependency stay external (tsup externalizes dependencies and peers).
 * @param {import('tsup').Options} [overrides]
 * @returns {import('tsup').Options}
 */
export function packageConfig(overrides = {}) {
  return {
    entry: ['src/index.ts'],
    format: ['esm'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'neutral',
    treeshake: true,
    ...overrides,
  };
}

/**
 * The preset of the apps' command-line bundles: ONE ESM file with ONE copy of tfjs-core and the wasm
 * backend's `.wasm` binaries copied beside it — the recipe of `@lipschitz/backends/bundling`
 * (`nodeBundleOptions`, `copyWasmBinaries`), applied to tsup. Workspace packages are bundled from their
 * sources (the `@lipschitz/source` condition), so no package needs to be built first.
 * @param {string} packageDir the app's directory (`import.meta.dirname` of its tsup.config.ts)
 * @param {{ nodeBundleOptions: () => { target: string, mainFields: string[], banner: { js: string } }, copyWasmBinaries: (out: string, from?: string) => unknown }} bundling
 *   the `@lipschitz/backends/bundling` module, imported by the app's tsup.config.ts from its source (tsup
 *   bundles config files, but loads this preset natively, where TypeScript cannot be imported)
 * @returns {import('tsup').Options}
 */
export function cliBundleConfig(packageDir, { nodeBundleOptions, copyWasmBinaries }) {
  const recipe = nodeBundleOptions();
  return {
    entry: { cli: 'src/cli.ts' },
    format: ['esm'],
    platform: 'node',
    target: recipe.target,
    sourcemap: true,
    // No clean: dist/ also holds other builds and user files (apps/robustness/dist/web and the models copied
    // there). tsup's `clean: [patterns]` does not restrict the clean to those files — it deletes every file
    // of dist/ except the ones the patterns exclude — and cli.js / cli.js.map are overwritten anyway.
    clean: false,
    dts: false,
    splitting: false,
    noExternal: [/.*/],
    esbuildOptions(options) {
      options.mainFields = recipe.mainFields;
      options.conditions = ['@lipschitz/source', 'module', 'import'];
    },
    banner: recipe.banner,
    onSuccess: async () => {
      const { join } = await import('node:path');
      copyWasmBinaries(join(packageDir, 'dist'), packageDir);
    },
  };
}
