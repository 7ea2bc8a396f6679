// Build-time helpers (Node only) for apps that bundle code using @lipschitz/backends with esbuild or
// tsup. Exported as `@lipschitz/backends/bundling`, a separate entry, so the main entry stays free of
// node:* imports and works in browsers.
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The `.wasm` files tfjs-backend-wasm 4.22 may load (SIMD in Node; the others for old/threaded browsers). */
export const WASM_BINARY_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'] as const;

/**
 * Banner for ESM bundles that run in Node: tfjs-backend-wasm's Emscripten loader uses `require`,
 * `__dirname` and `__filename`, which ES modules lack. With it, the loader looks for its `.wasm`
 * files next to the bundle (see {@link copyWasmBinaries}).
 */
export const NODE_ESM_BANNER =
  "import { createRequire as __lipschitzCreateRequire } from 'node:module';" +
  " import { fileURLToPath as __lipschitzFileURLToPath } from 'node:url';" +
  " import { dirname as __lipschitzDirname } from 'node:path';" +
  ' const require = __lipschitzCreateRequire(import.meta.url);' +
  ' const __filename = __lipschitzFileURLToPath(import.meta.url);' +
  ' const __dirname = __lipschitzDirname(__filename);';

/** The esbuild options of {@link nodeBundleOptions}. */
export interface NodeBundleOptions {
  bundle: true;
  platform: 'node';
  format: 'esm';
  target: string;
  mainFields: string[];
  banner: { js: string };
}

/**
 * esbuild options for a self-contained Node ESM bundle (a CLI) that trains with tfjs: everything,
 * tfjs included, is bundled; `mainFields: ['module', 'main']` makes tfjs-core, its deep gradient
 * import and the backends resolve to tfjs's ES modules, so exactly ONE copy of tfjs-core is bundled;
 * the banner provides `require`/`__dirname` for tfjs-backend-wasm. Copy the `.wasm` files next to the
 * output with {@link copyWasmBinaries} (or pass `wasmPaths` to `prepareBackend`).
 *
 * With tsup: `{ format: ['esm'], platform: 'node', noExternal: [/./], banner: { js: NODE_ESM_BANNER },
 * esbuildOptions(o) { o.mainFields = ['module', 'main']; }, onSuccess: async () => { copyWasmBinaries('dist'); } }`.
 *
 * @example
 * ```ts
 * import { build } from 'esbuild';
 * import { copyWasmBinaries, nodeBundleOptions } from '@lipschitz/backends/bundling';
 * await build({ ...nodeBundleOptions(), entryPoints: ['src/cli.ts'], outfile: 'dist/cli.mjs' });
 * copyWasmBinaries('dist');
 * ```
 */
export function nodeBundleOptions(): NodeBundleOptions {
  return { bundle: true, platform: 'node', format: 'esm', target: 'node20', mainFields: ['module', 'main'], banner: { js: NODE_ESM_BANNER } };
}

/**
 * Absolute path of the directory holding tfjs-backend-wasm's `.wasm` files, resolved from `fromDirectory`
 * (default: this package) the way Node resolves packages. For `prepareBackend('wasm', { wasmPaths })`
 * append a `/`.
 *
 * @example
 * ```ts
 * const dir = wasmBinaryDirectory(); // .../node_modules/@tensorflow/tfjs-backend-wasm/dist
 * ```
 */
export function wasmBinaryDirectory(fromDirectory?: string): string {
  const require = createRequire(fromDirectory === undefined ? import.meta.url : join(fromDirectory, 'noop.js'));
  return join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
}

/**
 * Copies tfjs-backend-wasm's `.wasm` files into `outDirectory` (created if needed), where a bundle
 * built with {@link nodeBundleOptions} looks for them. Returns the written paths.
 *
 * @example
 * ```ts
 * copyWasmBinaries('dist'); // dist/tfjs-backend-wasm-simd.wasm, ...
 * ```
 */
export function copyWasmBinaries(outDirectory: string, fromDirectory?: string): string[] {
  const source = wasmBinaryDirectory(fromDirectory);
  mkdirSync(outDirectory, { recursive: true });
  return WASM_BINARY_FILES.map((file) => {
    const target = join(outDirectory, file);
    copyFileSync(join(source, file), target);
    return target;
  });
}
