// Shared helpers of the perf-* benchmarks (issue 10). Not a benchmark itself (no `.bench.ts`).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { multiMarginLoss } from '@lipschitz/certify';
import type { LipschitzModule } from '@lipschitz/core';
import { BcopConv2d, BjorckDense, type ConvType, type LayerModule, type ModelOptions, largeConvNet, RkoConv2d, type Sequential, smallConvNet } from '@lipschitz/layers';
import { StridedConv } from '@lipschitz/layers/authoring';
import { singularValues } from '@lipschitz/linalg';
import { FAST_POLAR, REFERENCE_BJORCK } from '@lipschitz/orthogonalize';
import type { Timing } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';

/** The reference's figures (LConvNet, PyTorch 1.13 + OpenBLAS, 2 vCPUs; issue 10), in ms. */
export const REFERENCE_MS = {
  mnistSmallStep: 63,
  mnistLargeStep: 1935,
  cifarLargeStep: 2458,
  mnistSmallEpoch: 32_500,
  evalSmall1000: 52,
  evalLarge1000: 681,
  certifyLarge10k: 6810,
} as const;

/** The orthogonalization options of a scheme (the model builders' `orthogonalization` and `orthogonalizer`). */
export type SchemeOptions = Pick<ModelOptions, 'orthogonalization' | 'orthogonalizer' | 'retractionSteps'>;

/** Orthogonalization schemes compared: the reference Björck-20, the former default (Gram form), the faster options and the default. */
export const SCHEMES: Record<string, SchemeOptions> = {
  reference: { orthogonalization: 'unrolled', orthogonalizer: REFERENCE_BJORCK }, // the reference's literal form: Björck 20 it., β 0.5, order 1, power scaling
  bjorckGram: { orthogonalization: 'unrolled' }, // the default before issue 14: the same iterates in the Gram form (REFERENCE_BJORCK_GRAM)
  polarExpress: { orthogonalization: 'unrolled', orthogonalizer: FAST_POLAR },
  reprojected: { orthogonalization: 'reprojected' }, // reproject: true, REPROJECTED_BJORCK in the forward pass
  projected: { orthogonalization: 'projected' }, // the default since issue 14: rescaling forward + Newton–Schulz retraction in afterStep
};

/** Schemes whose `model.afterStep` does work (re-projection / retraction after every optimizer step): time steps with it. */
export const REPROJECTED_SCHEMES: ReadonlySet<string> = new Set(['reprojected', 'projected']);

export type ModelName = 'mnist-small' | 'mnist-large' | 'cifar-large';

export const INPUT_SHAPES: Record<ModelName, [number, number, number]> = {
  'mnist-small': [28, 28, 1],
  'mnist-large': [28, 28, 1],
  'cifar-large': [32, 32, 3],
};

/** The paper's model with `conv` layers (`'plain'`: same architecture, unconstrained convs and dense layers). */
export function buildModel(name: ModelName, conv: ConvType, scheme: SchemeOptions = SCHEMES.projected, seed = 0): Sequential {
  const options = { conv, inputShape: INPUT_SHAPES[name], seed, ...scheme };
  return name === 'mnist-small' ? smallConvNet(options) : largeConvNet(options);
}

/** The reference's hinge loss (ε = 1.5 on MNIST, 0.5 on CIFAR-10). */
export function lossFor(name: ModelName) {
  const epsilon = name.startsWith('cifar') ? 0.5 : 1.5;
  return (z: tf.Tensor, y: tf.Tensor) => multiMarginLoss(z, y, { epsilon });
}

/** One Adam step (forward + backward + update) without reading anything back but the loss (as `measure` does). */
export function stepFn(model: LipschitzModule, optimizer: tf.Optimizer, x: tf.Tensor, y: tf.Tensor, loss: (z: tf.Tensor, y: tf.Tensor) => tf.Scalar) {
  return () => tf.tidy(() => optimizer.minimize(() => loss(model.apply(x), y), true, model.trainableVariables) as tf.Scalar);
}

/**
 * One Adam step followed by `model.afterStep(step)` (the re-projection of the `reproject` option, outside the
 * tape), as `train()` runs it: returns the loss. For models without `afterStep` it is {@link stepFn}.
 */
export function stepWithAfterStep(model: LipschitzModule, optimizer: tf.Optimizer, x: tf.Tensor, y: tf.Tensor, loss: (z: tf.Tensor, y: tf.Tensor) => tf.Scalar) {
  const step = stepFn(model, optimizer, x, y, loss);
  let count = 0;
  return async () => {
    const cost = step();
    await model.afterStep?.(++count);
    return cost;
  };
}

/** The re-projected parameter variables of a model (`[label, variable]`): BCOP parameter stacks, RKO and Björck dense weights. */
export function reprojectedVariables(model: Sequential): [string, tf.Variable][] {
  const out: [string, tf.Variable][] = [];
  const visit = (m: LayerModule) => {
    const layer = m instanceof StridedConv ? m.inner : m;
    if (layer instanceof BcopConv2d) out.push([layer.name, layer.params]);
    else if (layer instanceof BjorckDense || layer instanceof RkoConv2d) out.push([layer.name, layer.weight]);
  };
  for (const l of model.layers) visit(l);
  return out;
}

/**
 * Exact (float64, host) spectrum statistics of every matrix of `variables` relative to its scale
 * `c = ‖w‖_F/√min(m, n)`: max |σ/c − 1| and min σ_min/σ_max over all matrices of each variable.
 */
export async function scaledSpectrumStats(variables: [string, tf.Variable][]): Promise<{ layer: string; maxRelativeDeviation: number; minConditionRatio: number }[]> {
  const out: { layer: string; maxRelativeDeviation: number; minConditionRatio: number }[] = [];
  for (const [label, v] of variables) {
    const shape = v.shape;
    const rows = shape[shape.length - 2];
    const cols = shape[shape.length - 1];
    const data = await v.data();
    let dev = 0;
    let ratio = 1;
    for (let b = 0; b < data.length / (rows * cols); b++) {
      const m = data.subarray(b * rows * cols, (b + 1) * rows * cols);
      let values: ArrayLike<number> = m;
      let [r, c] = [rows, cols];
      if (rows < cols) {
        const t = new Float64Array(rows * cols);
        for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = m[i * cols + j];
        values = t;
        [r, c] = [cols, rows];
      }
      const s = singularValues(values, r, c);
      let sumSq = 0;
      for (const x of m) sumSq += x * x;
      const scale = Math.sqrt(sumSq / Math.min(rows, cols));
      let min = Number.POSITIVE_INFINITY;
      let max = 0;
      for (const x of s) {
        dev = Math.max(dev, Math.abs(x / scale - 1));
        min = Math.min(min, x);
        max = Math.max(max, x);
      }
      ratio = Math.min(ratio, min / max);
    }
    out.push({ layer: label, maxRelativeDeviation: dev, minConditionRatio: ratio });
  }
  return out;
}

export const round = (v: number, digits = 2): number => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};

export const summary = (t: Timing) => ({ medianMs: round(t.medianMs), minMs: round(t.minMs), samples: t.samples.map((s) => round(s, 1)) });

/** A random batch shaped like the model's input (values in [0, 1], labels in 0..9), seeded. */
export function randomBatch(name: ModelName, batch: number, seed = 1): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const [h, w, c] = INPUT_SHAPES[name];
  return { x: tf.randomUniform([batch, h, w, c], 0, 1, 'float32', seed) as tf.Tensor4D, y: tf.randomUniform([batch], 0, 10, 'int32', seed + 1) as tf.Tensor1D };
}

/** A numeric knob of the perf benchmarks from the environment (e.g. `PERF_REPEATS=5`), or `fallback`. */
export function knob(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got ${raw}`);
  return value;
}

/** A comma-separated knob of the perf benchmarks (e.g. `PERF_SCHEMES=reference,reprojected`), or undefined when unset. */
export function listKnob(name: string): string[] | undefined {
  const raw = process.env[name];
  return raw === undefined || raw === '' ? undefined : raw.split(',');
}

/** The same-run PyTorch reference step (bench/pytorch/bcop_step.py), or why it could not run. */
export type PytorchReference =
  | { available: true; torch: string; threads: number; models: Record<string, { medianMs: number; minMs: number; samples: number[] }> }
  | { available: false; reason: string };

let torchChecked: { ok: true; python: string } | { ok: false; reason: string } | undefined;

/** The first of `python3` (PATH) and Debian's `/usr/bin/python3` that can import torch. */
function pythonWithTorch(): string | undefined {
  for (const python of ['python3', '/usr/bin/python3']) {
    if (spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8', timeout: 120_000 }).status === 0) return python;
  }
  return undefined;
}

/**
 * Finds a `python3` that can import torch: when there is none and this process is root, installs Debian's
 * `python3-torch` and `libopenblas0-openmp` once (apt-get update + install). Returns why not otherwise.
 */
function ensureTorch(): { ok: true; python: string } | { ok: false; reason: string } {
  if (torchChecked) return torchChecked;
  let python = pythonWithTorch();
  if (python === undefined && process.getuid?.() === 0) {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['update'], { encoding: 'utf8', timeout: 600_000, env });
    spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'python3-torch', 'libopenblas0-openmp'], { encoding: 'utf8', timeout: 1_800_000, env });
    python = pythonWithTorch();
  }
  torchChecked =
    python !== undefined
      ? { ok: true, python }
      : { ok: false, reason: 'neither python3 nor /usr/bin/python3 can import torch; install python3-torch and libopenblas0-openmp (as root the bench does it itself)' };
  return torchChecked;
}

/**
 * Times the PyTorch reference training step (BCOP, Björck-20, batch 128, Adam, one thread) of `models`
 * with bench/pytorch/bcop_step.py, in this run. Where torch is missing it says so in one line (console)
 * and returns `{ available: false, reason }`.
 */
export function pytorchReference(models: ModelName[], repeats = 5): PytorchReference {
  const ready = ensureTorch();
  if (!ready.ok) {
    console.log(`PyTorch reference not measured: ${ready.reason}`);
    return { available: false, reason: ready.reason };
  }
  const script = fileURLToPath(new URL('./pytorch/bcop_step.py', import.meta.url));
  const run = spawnSync(ready.python, [script, '--models', models.join(','), '--repeats', String(repeats)], {
    encoding: 'utf8',
    timeout: 1_800_000,
    env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' },
  });
  if (run.status !== 0) {
    const reason = `bench/pytorch/bcop_step.py failed (${run.status ?? run.signal}): ${(run.stderr || '').trim().split('\n').pop()}`;
    console.log(`PyTorch reference not measured: ${reason}`);
    return { available: false, reason };
  }
  const parsed = JSON.parse(run.stdout.trim().split('\n').pop() as string);
  return { available: true, torch: parsed.torch, threads: parsed.threads, models: parsed.models };
}

/** The median (mean of the two middle values for an even count). */
export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** CPU time of this process in ms (user + system): on a loaded machine far steadier than wall time (wasm runs one thread). */
export const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
