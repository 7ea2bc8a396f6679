import { prepareBackend } from '@lipschitz/backends';
import * as tf from '@tensorflow/tfjs-core';
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { afterEach, beforeAll, beforeEach, describe, expect } from 'vitest';

/** Backends every backend-agnostic test runs on in Node. */
export const NODE_BACKENDS = ['cpu', 'wasm'] as const;
export type TestBackend = (typeof NODE_BACKENDS)[number];

/**
 * Runs the same test body once per backend (cpu and wasm in Node; set `LIPSCHITZ_TEST_BACKENDS=cpu`
 * to restrict). Inside, the backend is active, and every test runs inside an engine scope, so tensors
 * a test forgets to dispose do not pile up between tests (leaks are still caught by
 * {@link expectNoLeaks}).
 *
 * @example
 * ```ts
 * describeBackends('bjorck', (backend) => { it('converges', async () => { ... }); });
 * ```
 */
export function describeBackends(
  name: string,
  body: (backend: TestBackend) => void,
  backends: readonly TestBackend[] = selectedBackends(),
): void {
  for (const backend of backends) {
    describe(`${name} [${backend}]`, () => {
      beforeAll(async () => {
        await prepareBackend(backend);
      });
      beforeEach(async () => {
        if (tf.getBackend() !== backend) await prepareBackend(backend);
        tf.engine().startScope();
      });
      afterEach(() => {
        tf.engine().endScope();
      });
      body(backend);
    });
  }
}

function selectedBackends(): TestBackend[] {
  const env = typeof process !== 'undefined' ? process.env.LIPSCHITZ_TEST_BACKENDS : undefined;
  if (!env) return [...NODE_BACKENDS];
  return env.split(',').filter((b): b is TestBackend => (NODE_BACKENDS as readonly string[]).includes(b));
}

/**
 * Asserts that `fn` leaves no tensors behind: runs it once to warm up, then `repeats` more times and
 * checks `tf.memory().numTensors` and the backend's data ids are unchanged. Returns the last result's
 * value is disposed by the caller-provided `cleanup` (default: dispose tensors it returns).
 */
export async function expectNoLeaks(fn: () => unknown | Promise<unknown>, repeats = 3): Promise<void> {
  const run = async () => {
    const result = await fn();
    disposeResult(result);
  };
  await run();
  const tensorsBefore = tf.memory().numTensors;
  const idsBefore = tf.engine().backend.numDataIds();
  for (let i = 0; i < repeats; i++) await run();
  expect(tf.memory().numTensors, 'live tensors after repeated calls').toBe(tensorsBefore);
  expect(tf.engine().backend.numDataIds(), 'backend data ids after repeated calls').toBe(idsBefore);
}

function disposeResult(value: unknown): void {
  if (value instanceof tf.Tensor) value.dispose();
  else if (Array.isArray(value)) value.forEach(disposeResult);
  else if (value && typeof value === 'object' && !(ArrayBuffer.isView(value))) {
    for (const v of Object.values(value)) disposeResult(v);
  }
}

/**
 * Asserts `|actual[i] − expected[i]| ≤ atol + rtol·|expected[i]|` for every i, reporting the worst
 * index. Accepts tensors (read with `await data()`), typed arrays and number arrays.
 */
export async function expectClose(
  actual: tf.Tensor | ArrayLike<number>,
  expected: tf.Tensor | ArrayLike<number>,
  { atol = 1e-5, rtol = 0 }: { atol?: number; rtol?: number } = {},
): Promise<void> {
  const a = actual instanceof tf.Tensor ? await actual.data() : actual;
  const e = expected instanceof tf.Tensor ? await expected.data() : expected;
  expect(a.length, 'length').toBe(e.length);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < a.length; i++) {
    const diff = Math.abs(a[i] - e[i]);
    const tol = atol + rtol * Math.abs(e[i]);
    if (!(diff <= tol) && (worst < 0 || diff - tol > worstExcess)) {
      worst = i;
      worstExcess = diff - tol;
    }
  }
  if (worst >= 0) {
    expect.fail(`values differ at index ${worst}: actual ${a[worst]}, expected ${e[worst]} (atol ${atol}, rtol ${rtol})`);
  }
}

/**
 * tfjs random ops treat seed 0 as "no seed" (non-deterministic); our fixtures pass `seed + 1` so that every
 * integer seed, 0 included, is deterministic.
 */
function tfSeed(seed: number): number {
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`seed must be a non-negative integer, got ${seed}`);
  return seed + 1;
}

/** A deterministic float32 tensor of N(0, std²) values from `seed` (any non-negative integer, 0 included). */
export function seededNormal(shape: number[], seed: number, std = 1): tf.Tensor {
  return tf.randomNormal(shape, 0, std, 'float32', tfSeed(seed));
}

/** A deterministic float32 tensor uniform in [min, max) from `seed` (any non-negative integer, 0 included). */
export function seededUniform(shape: number[], seed: number, min = 0, max = 1): tf.Tensor {
  return tf.randomUniform(shape, min, max, 'float32', tfSeed(seed));
}

/**
 * Float64 oracle: all `min(rows, cols)` singular values (descending) of a row-major `rows × cols` matrix,
 * by ml-matrix's SVD. Independent of `@lipschitz/linalg`, so it can check that package. Wide matrices
 * (rows < cols) are transposed here first, so callers pass any shape as it is (ml-matrix's Golub–Kahan
 * SVD assumes rows ≥ cols, and its wide-matrix path can report an extra zero).
 */
export function singularValuesOracle(values: ArrayLike<number>, rows: number, cols: number): number[] {
  const tall = rows >= cols;
  const m = tall ? new Matrix(rows, cols) : new Matrix(cols, rows);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      if (tall) m.set(i, j, values[i * cols + j]);
      else m.set(j, i, values[i * cols + j]);
    }
  }
  const svd = new SingularValueDecomposition(m, { computeLeftSingularVectors: false, computeRightSingularVectors: false, autoTranspose: true });
  return [...svd.diagonal].sort((x, y) => y - x).slice(0, Math.min(rows, cols));
}

/**
 * The dense matrix (row-major, `[outSize, inSize]`) of a linear map given as a function on NHWC
 * tensors, built column by column from its impulse response: column j is `f(e_j)`. For checking
 * operator norms exactly on small shapes (orthogonium's oracle).
 */
export async function denseMatrixOf(f: (x: tf.Tensor) => tf.Tensor, inputShape: number[]): Promise<{ values: Float64Array; rows: number; cols: number }> {
  const inSize = inputShape.reduce((a, b) => a * b, 1);
  const basis = tf.tidy(() => tf.reshape(tf.eye(inSize), [inSize, ...inputShape]));
  const out = tf.tidy(() => f(basis));
  basis.dispose();
  const outSize = out.size / inSize;
  const data = await out.data();
  out.dispose();
  const values = new Float64Array(outSize * inSize);
  for (let j = 0; j < inSize; j++) for (let i = 0; i < outSize; i++) values[i * inSize + j] = data[j * outSize + i];
  return { values, rows: outSize, cols: inSize };
}

/**
 * Central finite-difference gradient of a scalar function `f` at `x` (float32 values, step `h`),
 * for checking custom gradients: `∂f/∂x_i ≈ (f(x + h e_i) − f(x − h e_i)) / 2h`.
 */
export async function finiteDifferenceGradient(
  f: (x: tf.Tensor) => tf.Scalar,
  x: tf.Tensor,
  h = 1e-2,
  indices?: number[],
): Promise<Map<number, number>> {
  const base = await x.data();
  const result = new Map<number, number>();
  const which = indices ?? Array.from({ length: base.length }, (_, i) => i);
  for (const i of which) {
    const plus = Float32Array.from(base);
    const minus = Float32Array.from(base);
    plus[i] += h;
    minus[i] -= h;
    const fp = tf.tidy(() => f(tf.tensor(plus, x.shape)));
    const fm = tf.tidy(() => f(tf.tensor(minus, x.shape)));
    const [vp] = await fp.data();
    const [vm] = await fm.data();
    fp.dispose();
    fm.dispose();
    result.set(i, (vp - vm) / (2 * h));
  }
  return result;
}

export { measure, writeBenchResult, type Timing } from './bench';
export { quickstartFromReadme, runReadmeQuickstart } from './readme';
export { HEADLESS_CHROMIUM_FLAGS, chromiumPath, launchHeadlessChromium } from './chromium';
export { buildCliBundle, runCli, startCli, type CliRun } from './cli-bundle';
export { normalValues, conv as exportedConv, dense as exportedDense, model as exportedModel } from './exported-fixtures';
