import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { defineConfig } from 'tsup';

// The CLI is ONE bundle with ONE copy of tfjs-core (its ESM build, so that the gradient registration
// `@tensorflow/tfjs-core/dist/register_all_gradients` shares modules with everything else). The wasm
// backend's .wasm files are copied beside the bundle; the CLI passes that directory to setWasmPaths.
const require = createRequire(import.meta.url);
const wasmDist = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');

export default defineConfig({
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
  // CommonJS globals that bundled dependencies (emscripten glue of tfjs-backend-wasm) expect.
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
    mkdirSync('dist', { recursive: true });
    for (const file of readdirSync(wasmDist)) if (file.endsWith('.wasm')) copyFileSync(join(wasmDist, file), join('dist', file));
  },
});
