import { LipschitzError } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';
import './register-gradients';
import { registerWasmTrainingKernels } from './wasm-training-kernels';

/** Backend names accepted by {@link prepareBackend}. */
export type BackendName = 'auto' | 'wasm' | 'cpu' | 'node' | 'node-gpu' | 'webgpu' | 'webgl';

/** Every name {@link prepareBackend} accepts, in documentation order. */
export const BACKEND_NAMES: readonly BackendName[] = ['auto', 'wasm', 'cpu', 'node', 'node-gpu', 'webgpu', 'webgl'];

/** The runtime {@link prepareBackend} prepares for. */
export type RuntimeEnvironment = 'node' | 'browser';

/** The `.wasm` files of `@tensorflow/tfjs-backend-wasm`, as named by its `setWasmPaths`. */
export type WasmBinaryName = 'tfjs-backend-wasm.wasm' | 'tfjs-backend-wasm-simd.wasm' | 'tfjs-backend-wasm-threaded-simd.wasm';

/** Options of {@link prepareBackend}. */
export interface PrepareBackendOptions {
  /**
   * Where tfjs-backend-wasm finds its `.wasm` files, passed to its `setWasmPaths` before the backend
   * starts: a directory/URL prefix ending in `/`, or a map from file name to path/URL. Needed when
   * tfjs-backend-wasm is bundled (browser bundles; Node bundles that do not keep it external).
   * A map must name all three files.
   */
  wasmPaths?: string | Record<WasmBinaryName, string>;
  /**
   * WebGPU in Node: arguments for `create()` of the optional `webgpu` package (Dawn), e.g.
   * `['backend=vulkan']`. Default `[]`.
   */
  dawnOptions?: string[];
  /**
   * WebGPU in Node: sets `VK_ICD_FILENAMES` before Dawn starts, e.g. Debian chromium's SwiftShader ICD
   * `/usr/lib/chromium/vk_swiftshader_icd.json` on a machine without a GPU driver.
   */
  vulkanIcdFilenames?: string;
  /** The runtime to prepare for; detected by default (Node when `process.versions.node` is set). */
  environment?: RuntimeEnvironment;
}

/** What {@link prepareBackend} chose, and why. */
export interface PreparedBackend {
  /** The tfjs backend now active (`tf.getBackend()`): `wasm`, `cpu`, `tensorflow` (node/node-gpu), `webgpu` or `webgl`. */
  backend: string;
  /** The name that was asked for. */
  requested: BackendName;
  /** One sentence: what was tried and why this backend was chosen. */
  reason: string;
}

const NODE_PACKAGES = { node: '@tensorflow/tfjs-node', 'node-gpu': '@tensorflow/tfjs-node-gpu' } as const;
const TFJS_VERSION = '4.22.0';

/** The order `auto` tries backends in, per runtime (fastest first). */
export const AUTO_ORDER: Readonly<Record<RuntimeEnvironment, readonly Exclude<BackendName, 'auto'>[]>> = {
  node: ['node-gpu', 'node', 'wasm'],
  browser: ['webgpu', 'webgl', 'wasm'],
};

function unsupported(message: string, cause?: unknown): LipschitzError {
  return new LipschitzError('BACKEND_UNSUPPORTED', `prepareBackend: ${message}`, cause === undefined ? undefined : { cause });
}

/** Node (or a runtime with Node's `process.versions.node`, like Deno and Bun) versus a browser/worker. */
function detectEnvironment(): RuntimeEnvironment {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  const hasWindow = typeof (globalThis as { window?: unknown }).window !== 'undefined';
  return p?.versions?.node !== undefined && !hasWindow ? 'node' : 'browser';
}

// Imports a package that may not be installed, hiding the specifier from bundlers (it must stay a
// runtime lookup: tfjs-node is never a dependency of this package).
async function importOptional(specifier: string): Promise<Record<string, unknown> | undefined> {
  try {
    return (await import(/* @vite-ignore */ /* webpackIgnore: true */ specifier)) as Record<string, unknown>;
  } catch (error) {
    const code = (error as { code?: string }).code;
    const message = String((error as Error)?.message ?? error);
    const notFound =
      (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /Cannot find (module|package)|Failed to resolve/.test(message)) &&
      message.includes(specifier);
    if (notFound) return undefined;
    throw unsupported(`${specifier} is installed but failed to load: ${message.split('\n')[0]}`, error);
  }
}

async function select(name: string): Promise<void> {
  let ok = false;
  let failure: unknown;
  try {
    ok = await tf.setBackend(name);
  } catch (error) {
    failure = error;
  }
  if (!ok) {
    const detail = failure === undefined ? '' : `: ${String((failure as Error)?.message ?? failure).split('\n')[0]}`;
    throw unsupported(`the ${name} backend failed to initialise${detail}.`, failure);
  }
  await tf.ready();
}

async function activateWasm(options: PrepareBackendOptions): Promise<string> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  if (options.wasmPaths !== undefined) {
    // tfjs-backend-wasm silently ignores paths set after it started: refuse instead.
    if (tf.findBackend('wasm') != null) {
      throw unsupported('wasmPaths must be set before the wasm backend first starts; pass them on the first prepareBackend call.');
    }
    try {
      wasm.setWasmPaths(options.wasmPaths);
    } catch (error) {
      throw unsupported(`invalid wasmPaths: ${String((error as Error).message)}`, error);
    }
  }
  registerWasmTrainingKernels();
  try {
    await select('wasm');
  } catch (error) {
    throw unsupported(
      `the wasm backend failed to initialise. If tfjs-backend-wasm is bundled, pass { wasmPaths } pointing at its .wasm files (node_modules/@tensorflow/tfjs-backend-wasm/dist/).`,
      error,
    );
  }
  return 'wasm with the training kernels of @lipschitz/backends (Conv2DBackpropFilter, fast Conv2DBackpropInput, unflagged matMul, UnsortedSegmentSum)';
}

async function activateNode(name: 'node' | 'node-gpu', environment: RuntimeEnvironment): Promise<string> {
  const pkg = NODE_PACKAGES[name];
  if (environment !== 'node') throw unsupported(`backend '${name}' (${pkg}) runs only in Node.js; in a browser use 'webgpu', 'webgl' or 'wasm'.`);
  const loaded = await importOptional(pkg);
  if (loaded === undefined) {
    throw unsupported(`backend '${name}' needs ${pkg}, which is not installed: run \`npm i ${pkg}@${TFJS_VERSION}\` (it downloads libtensorflow), or use 'wasm'.`);
  }
  await select('tensorflow');
  return `${pkg} (libtensorflow${name === 'node-gpu' ? ' with CUDA' : ''})`;
}

async function activateWebgl(environment: RuntimeEnvironment): Promise<string> {
  if (environment !== 'browser') throw unsupported(`backend 'webgl' needs a browser with WebGL2; in Node use 'wasm', or 'webgpu' with the \`webgpu\` package.`);
  await import('@tensorflow/tfjs-backend-webgl');
  await select('webgl');
  return 'WebGL2';
}

interface GpuGlobals {
  navigator?: { gpu?: unknown };
}

async function provideNodeWebgpu(options: PrepareBackendOptions): Promise<void> {
  const g = globalThis as GpuGlobals;
  if (g.navigator?.gpu) return;
  const dawn = await importOptional('webgpu');
  if (dawn === undefined) {
    throw unsupported(`backend 'webgpu' in Node needs the optional \`webgpu\` package (Dawn): run \`npm i webgpu\`, or use 'wasm'.`);
  }
  if (options.vulkanIcdFilenames !== undefined) {
    const proc = (globalThis as { process?: { env: Record<string, string | undefined> } }).process;
    if (proc) proc.env.VK_ICD_FILENAMES = options.vulkanIcdFilenames;
  }
  const create = dawn.create as ((args: string[]) => unknown) | undefined;
  if (typeof create !== 'function') throw unsupported('the `webgpu` package has no create(); install a current version (`npm i webgpu`).');
  // Dawn's WebGPU classes (GPUBufferUsage, ...) must be globals, and navigator.gpu must exist BEFORE
  // tfjs-backend-webgpu is first imported: it registers itself only when it sees navigator.gpu.
  Object.assign(globalThis, (dawn.globals as Record<string, unknown> | undefined) ?? {});
  const gpu = create(options.dawnOptions ?? []);
  if (g.navigator === undefined) {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  } else {
    Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  }
}

async function activateWebgpu(environment: RuntimeEnvironment, options: PrepareBackendOptions): Promise<string> {
  if (environment === 'node') {
    await provideNodeWebgpu(options);
  } else if (!(globalThis as GpuGlobals).navigator?.gpu) {
    throw unsupported(`this browser has no WebGPU (navigator.gpu is missing); use 'webgl' or 'wasm'.`);
  }
  const gpu = (globalThis as GpuGlobals).navigator?.gpu as { requestAdapter(): Promise<unknown> };
  if ((await gpu.requestAdapter()) == null) {
    throw unsupported(
      environment === 'node'
        ? `WebGPU (Dawn) found no adapter: no usable GPU driver (Vulkan on Linux). Without a GPU, start Node with LD_LIBRARY_PATH=/usr/lib/chromium (or install libvulkan1) and pass vulkanIcdFilenames: '/usr/lib/chromium/vk_swiftshader_icd.json'; or use 'wasm'.`
        : `this browser's WebGPU has no adapter (GPU blocklisted or disabled); use 'webgl' or 'wasm'.`,
    );
  }
  await import('@tensorflow/tfjs-backend-webgpu');
  if (tf.findBackendFactory('webgpu') == null) {
    throw unsupported(
      `tfjs-backend-webgpu did not register itself: it was imported before navigator.gpu existed. Call prepareBackend('webgpu') before importing it.`,
    );
  }
  await select('webgpu');
  return environment === 'node' ? 'WebGPU through Dawn (the `webgpu` package)' : 'WebGPU';
}

async function activate(name: Exclude<BackendName, 'auto'>, environment: RuntimeEnvironment, options: PrepareBackendOptions): Promise<string> {
  switch (name) {
    case 'cpu':
      await import('@tensorflow/tfjs-backend-cpu');
      await select('cpu');
      return 'the pure-JS cpu backend (a correctness reference: 10-100x slower than wasm)';
    case 'wasm':
      return activateWasm(options);
    case 'node':
    case 'node-gpu':
      return activateNode(name, environment);
    case 'webgl':
      return activateWebgl(environment);
    case 'webgpu':
      return activateWebgpu(environment, options);
  }
}

/** A short why-not for the `auto` reason: "@tensorflow/tfjs-node is not installed", or the message's first clause. */
function shortReason(error: unknown): string {
  const message = String((error as Error)?.message ?? error)
    .replace(/^prepareBackend: /, '')
    .split('\n')[0];
  const missing = /needs (\S+), which is not installed/.exec(message);
  if (missing) return `${missing[1]} is not installed`;
  return message.split(/; |\. /)[0].replace(/\.$/, '');
}

/**
 * Prepares and selects a tfjs backend, with everything this project's training needs on it:
 * gradients registered (tfjs-core's Node entry omits them) and, on `wasm`, the training kernels of
 * {@link registerWasmTrainingKernels}.
 *
 * - `wasm`: tfjs-backend-wasm (the Node default; XNNPACK, SIMD, one thread in Node).
 * - `cpu`: the pure-JS reference backend.
 * - `node` / `node-gpu`: `@tensorflow/tfjs-node` / `@tensorflow/tfjs-node-gpu`, loaded dynamically
 *   only when the user installed them (they are never dependencies of this package).
 * - `webgpu`: in a browser with `navigator.gpu`; in Node through the optional `webgpu` package (Dawn).
 * - `webgl`: browsers (WebGL2).
 * - `auto`: Node: node-gpu > node > wasm; browser: webgpu > webgl > wasm. The first that starts wins.
 *
 * Ownership: selects the global tfjs backend (`tf.setBackend`); creates no tensors.
 *
 * @returns the backend now active, the name asked for, and one sentence saying what was tried and
 *   why this backend was chosen.
 * @throws LipschitzError `INVALID_ARGUMENT` for an unknown name; `BACKEND_UNSUPPORTED` when the
 *   backend cannot run here (not installed — the message says how to install it —, wrong runtime,
 *   failed initialisation).
 * @example
 * ```ts
 * const { backend, reason } = await prepareBackend('auto');
 * // backend === 'wasm' in plain Node; reason says node-gpu and node were not installed.
 * ```
 * Reference: TensorFlow.js platform and environment guide (https://www.tensorflow.org/js/guide/platform_environment).
 */
export async function prepareBackend(requested: BackendName = 'auto', options: PrepareBackendOptions = {}): Promise<PreparedBackend> {
  if (!BACKEND_NAMES.includes(requested)) {
    throw new LipschitzError('INVALID_ARGUMENT', `prepareBackend: unknown backend '${String(requested)}'. Use one of ${BACKEND_NAMES.join(', ')}.`);
  }
  const environment = options.environment ?? detectEnvironment();
  if (environment !== 'node' && environment !== 'browser') {
    throw new LipschitzError('INVALID_ARGUMENT', `prepareBackend: environment must be 'node' or 'browser', got '${String(environment)}'.`);
  }
  if (requested !== 'auto') {
    const what = await activate(requested, environment, options);
    return { backend: tf.getBackend(), requested, reason: `'${requested}' was requested: ${what}.` };
  }
  const order = AUTO_ORDER[environment];
  const skipped: string[] = [];
  for (const name of order) {
    try {
      const what = await activate(name, environment, options);
      const tried = skipped.length > 0 ? `${skipped.join('; ')}; ` : '';
      return { backend: tf.getBackend(), requested, reason: `auto in ${environment === 'node' ? 'Node' : 'a browser'} (order ${order.join(' > ')}): ${tried}chose ${name}: ${what}.` };
    } catch (error) {
      if (!(LipschitzError.isInstance(error) && error.code === 'BACKEND_UNSUPPORTED') || name === order[order.length - 1]) throw error;
      skipped.push(`${name} unavailable (${shortReason(error)})`);
    }
  }
  // Unreachable: the last candidate either returns or throws.
  throw unsupported('no backend could be started.');
}
