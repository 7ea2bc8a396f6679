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
 * The preset of the apps' command-line bundles: ONE ESM file with ONE copy of tfjs-core (its ESM build,
 * so the gradient registration `@tensorflow/tfjs-core/dist/register_all_gradients` shares modules with
 * everything else), the CommonJS globals that bundled emscripten glue expects, and the wasm backend's
 * `.wasm` binaries copied beside the bundle (`prepareCliBackend` of @lipschitz/app-kit points
 * tfjs-backend-wasm there).
 * @param {string} packageDir the app's directory (`import.meta.dirname` of its tsup.config.ts)
 * @returns {import('tsup').Options}
 */
export function cliBundleConfig(packageDir) {
  return {
    entry: { cli: 'src/cli.ts' },
    format: ['esm'],
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    clean: true,
    dts: false,
    splitting: false,
    noExternal: [/.*/],
    esbuildOptions(options) {
      options.mainFields = ['module', 'main'];
      options.conditions = ['@lipschitz/source', 'module', 'import'];
    },
    banner: {
      js: [
        "import { createRequire as __createRequire } from 'node:module';",
        "import { fileURLToPath as __fileURLToPath } from 'node:url';",
        "import { dirname as __pathDirname } from 'node:path';",
        'const require = __createRequire(import.meta.url);',
        'const __filename = __fileURLToPath(import.meta.url);',
        'const __dirname = __pathDirname(__filename);',
      ].join('\n'),
    },
    onSuccess: async () => {
      const { copyFileSync, mkdirSync, readdirSync } = await import('node:fs');
      const { createRequire } = await import('node:module');
      const { dirname, join } = await import('node:path');
      const require = createRequire(join(packageDir, 'package.json'));
      const wasmDist = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
      const out = join(packageDir, 'dist');
      mkdirSync(out, { recursive: true });
      for (const file of readdirSync(wasmDist)) if (file.endsWith('.wasm')) copyFileSync(join(wasmDist, file), join(out, file));
    },
  };
}
