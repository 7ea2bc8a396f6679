// Issue 10, "fewer, larger ops in the data path": the fused MaxMin and circular padding (one
// differentiable node each, block copies, hand-written gradients) against the composite ops they
// replace (MaxMin = split + maximum + minimum + concat; circular padding = slice + concat per axis,
// differentiated by autodiff), in the same run, on the default Node backend (wasm).
// - micro: each op alone, forward and forward + backward, at the shapes of the paper's models;
// - models: MNIST-Small and MNIST-Large, plain and BCOP (layers' default orthogonalizer): one Adam
//   training step at batch 128 (reference hinge loss) and the frozen forward of 1,000 images
//   (batches of 100, kernels cached), with the old ops and the new ones, alternating;
// - opCounts: kernels dispatched by one step / one frozen forward of 100 images (tf.profile).
// The old composites are kept here only (not exported): the layers are switched by replacing
// `MaxMin.prototype.forward` and `CircularConvLayer.prototype.forward` for the "old" runs.
// Old and new are timed in alternating pairs (the order flips every round) after one warm-up each;
// DATA_PATH_REPEATS (default 3) sets the rounds: micro 2R + 1, Small steps and frozen forwards R + 2,
// Large steps max(1, R − 1).
import { prepareBackend } from '@lipschitz/backends';
import { circularPad } from '@lipschitz/blockconv';
import { MaxMin } from '@lipschitz/layers';
import { CircularConvLayer } from '@lipschitz/layers/authoring';
import { measure, writeBenchResult } from '@lipschitz/test-utils';
import { createOptimizer } from '@lipschitz/train';
import * as tf from '@tensorflow/tfjs-core';
import { test } from 'vitest';
import { buildModel, knob, lossFor, type ModelName, randomBatch, round, stepFn } from './perf-common';

const REPEATS = knob('DATA_PATH_REPEATS', 3);
// DATA_PATH_MODELS_ONLY=1: skip the per-op section (its large tensors grow the wasm heap before the models run).
const MODELS_ONLY = knob('DATA_PATH_MODELS_ONLY', 2) === 1;

// ---- The composites replaced in this change (as they were in max-min.ts and circular-pad.ts). ----
function oldMaxMin(x: tf.Tensor): tf.Tensor {
  const axis = x.rank - 1;
  const [a, b] = tf.split(x, 2, axis);
  return tf.concat([tf.maximum(a, b), tf.minimum(a, b)], axis);
}

function oldPadAxis(x: tf.Tensor4D, axis: 1 | 2, before: number, after: number): tf.Tensor4D {
  if (before === 0 && after === 0) return x;
  const size = x.shape[axis];
  const along = (start: number, length: number): [number[], number[]] => {
    const begin = [0, 0, 0, 0];
    const extent = [-1, -1, -1, -1];
    begin[axis] = start;
    extent[axis] = length;
    return [begin, extent];
  };
  if (before <= size && after <= size) {
    const parts: tf.Tensor4D[] = [];
    if (before > 0) parts.push(tf.slice(x, ...along(size - before, before)));
    parts.push(x);
    if (after > 0) parts.push(tf.slice(x, ...along(0, after)));
    return tf.concat(parts, axis);
  }
  const length = size + before + after;
  const start = (((-before) % size) + size) % size;
  const reps = [1, 1, 1, 1];
  reps[axis] = Math.ceil((start + length) / size);
  return tf.slice(tf.tile(x, reps), ...along(start, length));
}

function oldCircularPad(x: tf.Tensor4D, kh: number, kw: number): tf.Tensor4D {
  return tf.tidy(() => {
    const rows = oldPadAxis(x, 1, Math.floor(kh / 2), kh - 1 - Math.floor(kh / 2));
    const out = oldPadAxis(rows, 2, Math.floor(kw / 2), kw - 1 - Math.floor(kw / 2));
    return out === x ? tf.clone(x) : out;
  });
}

function oldCircularConv2d(x: tf.Tensor4D, kernel: tf.Tensor4D, bias?: tf.Tensor1D): tf.Tensor4D {
  return tf.tidy(() => {
    const y = tf.conv2d(oldCircularPad(x, kernel.shape[0], kernel.shape[1]), kernel, 1, 'valid');
    return bias == null ? y : tf.add(y, bias);
  });
}

type Forward = (x: tf.Tensor, kernels: readonly tf.Tensor[]) => tf.Tensor;
const maxMinProto = MaxMin.prototype as unknown as { forward: Forward };
const convProto = CircularConvLayer.prototype as unknown as { forward: Forward };
const NEW = { maxMin: maxMinProto.forward, conv: convProto.forward };
const OLD: typeof NEW = {
  maxMin: (x) => oldMaxMin(x),
  conv: (x, k) => oldCircularConv2d(x as tf.Tensor4D, k[0] as tf.Tensor4D, k[1] as tf.Tensor1D | undefined),
};
type Variant = 'old' | 'new';
function use(variant: Variant): void {
  const impl = variant === 'old' ? OLD : NEW;
  maxMinProto.forward = impl.maxMin;
  convProto.forward = impl.conv;
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

/**
 * Old and new timed in alternating pairs (the order flips every round), so that the load of the
 * shared machine hits both alike: per variant the median, min and samples, and the median of the
 * per-round ratios new/old (the figure to quote).
 */
async function paired(run: (v: Variant) => () => unknown, rounds: number): Promise<Record<string, unknown>> {
  for (const v of ['old', 'new'] as const) await measure(run(v), { warmup: 0, repeats: 1 }); // warm-up
  const samples: Record<Variant, number[]> = { old: [], new: [] };
  const ratios: number[] = [];
  for (let i = 0; i < rounds; i++) {
    for (const v of i % 2 === 0 ? (['old', 'new'] as const) : (['new', 'old'] as const)) {
      samples[v].push((await measure(run(v), { warmup: 0, repeats: 1 })).medianMs);
    }
    ratios.push(samples.new[i] / samples.old[i]);
  }
  const stats = (t: number[]) => ({ medianMs: round(median(t)), minMs: round(Math.min(...t)), samples: t.map((x) => round(x, 1)) });
  return { old: stats(samples.old), new: stats(samples.new), ratio: round(median(ratios), 3) };
}

async function opCount(f: () => tf.Tensor): Promise<number> {
  const info = await tf.profile(async () => {
    const t = f();
    await t.data();
    t.dispose();
  });
  return info.kernels.length;
}

test('data path: fused MaxMin and circular padding vs the composite ops (wasm)', async () => {
  await prepareBackend('wasm');
  const started = performance.now();
  const out: Record<string, unknown> = {
    description:
      'Old composite ops (MaxMin split/maximum/minimum/concat; circular padding slice+concat per axis, autodiff) vs the fused ' +
      'ones (one customGrad node each, block copies), same run, wasm. micro: op alone, batch 128 (fwd; fwd+bwd = tf.grad of <op(x), g>). ' +
      'models: Adam step at batch 128 (reference hinge loss; BCOP with the layers default orthogonalizer) and frozen forward of ' +
      '1,000 images (10 batches of 100). Old and new alternate per round; ratio = median over rounds of new / old. Untrained seeded models, random inputs.',
    repeats: REPEATS,
  };
  const save = (key: string, value: unknown) => {
    out[key] = value;
    out.totalBenchMs = round(performance.now() - started);
    writeBenchResult(MODELS_ONLY ? 'data-path-models' : 'data-path', out);
  };

  // 1. Each op alone at the paper's shapes.
  const micro: Record<string, unknown>[] = [];
  const cases: { op: 'maxMin' | 'circularPad'; shape: number[]; k?: number; where: string }[] = [
    { op: 'maxMin', shape: [128, 14, 14, 16], where: 'small conv1' },
    { op: 'maxMin', shape: [128, 28, 28, 32], where: 'large conv1' },
    { op: 'maxMin', shape: [128, 7, 7, 64], where: 'large conv4' },
    { op: 'maxMin', shape: [128, 512], where: 'large dense' },
    { op: 'circularPad', shape: [128, 14, 14, 4], k: 2, where: 'small conv1 (after downsampling)' },
    { op: 'circularPad', shape: [128, 28, 28, 1], k: 3, where: 'large conv1' },
    { op: 'circularPad', shape: [128, 14, 14, 32], k: 3, where: 'large conv3' },
    { op: 'circularPad', shape: [128, 7, 7, 256], k: 2, where: 'large conv4 (after downsampling)' },
  ];
  for (const c of MODELS_ONLY ? [] : cases) {
    const x: tf.Tensor = tf.randomNormal(c.shape, 0, 1, 'float32', 1);
    const k = c.k ?? 1;
    const outShape = c.op === 'maxMin' ? c.shape : [c.shape[0], c.shape[1] + k - 1, c.shape[2] + k - 1, c.shape[3]];
    const g = tf.randomNormal(outShape, 0, 1, 'float32', 2);
    const layer = new MaxMin();
    const impl: Record<Variant, (t: tf.Tensor) => tf.Tensor> =
      c.op === 'maxMin'
        ? { old: oldMaxMin, new: (t) => NEW.maxMin.call(layer, t, []) }
        : { old: (t) => oldCircularPad(t as tf.Tensor4D, k, k), new: (t) => circularPad(t as tf.Tensor4D, k) };
    const row: Record<string, unknown> = { op: c.op, shape: c.shape.join('×'), ...(c.k ? { kernelSize: c.k } : {}), where: c.where };
    const fwd = await paired((v) => () => tf.tidy(() => impl[v](x)), 2 * REPEATS + 1);
    const fwdBwd = await paired((v) => () => tf.tidy(() => tf.grad((u: tf.Tensor) => tf.sum(tf.mul(impl[v](u), g)))(x)), 2 * REPEATS + 1);
    const same = tf.tidy(() => tf.max(tf.abs(tf.sub(impl.old(x), impl.new(x)))).dataSync()[0]);
    Object.assign(row, { forward: fwd, forwardBackward: fwdBwd, maxAbsDiff: same });
    micro.push(row);
    tf.dispose([x, g]);
    save('micro', micro);
  }

  // 2. Whole models: training step and frozen inference, old vs new alternating.
  const models: Record<string, unknown> = {};
  const images1k = tf.randomUniform([1000, 28, 28, 1], 0, 1, 'float32', 7);
  for (const name of ['mnist-small', 'mnist-large'] as ModelName[]) {
    const { x, y } = randomBatch(name, 128);
    for (const conv of ['plain', 'bcop'] as const) {
      const row: Record<string, unknown> = {};
      const model = buildModel(name, conv);
      const optimizer = createOptimizer({ kind: 'adam' });
      const step = stepFn(model, optimizer, x, y, lossFor(name));
      const stepRounds = name === 'mnist-large' ? Math.max(1, REPEATS - 1) : REPEATS + 2;
      row.step = await paired((v) => {
        use(v);
        return step;
      }, stepRounds);
      optimizer.dispose();
      model.freeze();
      const forward = () => tf.tidy(() => tf.concat(Array.from({ length: 10 }, (_, i) => model.apply(tf.slice(images1k, [i * 100, 0, 0, 0], [100, 28, 28, 1])))));
      row.frozenForward1000 = await paired((v) => {
        use(v);
        return forward;
      }, REPEATS + 2);
      const ops: Record<string, number> = {};
      for (const v of ['old', 'new'] as const) {
        use(v);
        ops[`frozenForward100${v === 'old' ? 'Old' : 'New'}`] = await opCount(() => model.apply(tf.slice(images1k, [0, 0, 0, 0], [100, 28, 28, 1])));
      }
      use('new');
      row.opCounts = ops;
      model.dispose();
      models[`${name} ${conv}`] = row;
      save('models', models);
    }
    tf.dispose([x, y]);
  }
  images1k.dispose();
});
