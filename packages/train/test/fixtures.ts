import { type LipschitzModule, SeededRandom, type StepContext, encodeTensor } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';
import type { LabeledImages } from '../src';

/**
 * Test-only LipschitzModule: flatten → dense(in→hidden) scaled by 1/max(1, ‖W₁u‖) (u: a power-iteration
 * vector kept as non-trainable state and updated in afterStep, like OSSN) → ReLU → dense(hidden→classes).
 * Initialised from a SeededRandom on the host, so two processes build identical models. `exportLayers`
 * describes the same network as `lipschitz-model/1` layers, so the float-sound certificate applies to it.
 */
export interface TinyModel extends LipschitzModule {
  /** afterStep calls so far, and the steps it saw. */
  readonly afterSteps: number[];
  /** The step contexts afterStep saw (undefined when the caller passed none). */
  readonly afterStepContexts: (StepContext | undefined)[];
  freezeCalls: number;
}

export function tinyModel({
  inputSize = 2,
  hidden = 8,
  classes = 3,
  seed = 0,
  afterStepDelayMs = () => 0,
}: { inputSize?: number; hidden?: number; classes?: number; seed?: number; afterStepDelayMs?: () => number } = {}): TinyModel {
  const rng = new SeededRandom(seed);
  const normal = (n: number, std: number) => Float32Array.from({ length: n }, () => rng.normal() * std);
  const variable = (values: Float32Array, shape: number[], trainable = true) => {
    const initial = tf.tensor(values, shape);
    const v = tf.variable(initial, trainable);
    initial.dispose();
    return v;
  };
  const w1 = variable(normal(inputSize * hidden, 1 / Math.sqrt(inputSize)), [inputSize, hidden]);
  const b1 = variable(new Float32Array(hidden), [hidden]);
  const w2 = variable(normal(hidden * classes, 1 / Math.sqrt(hidden)), [hidden, classes]);
  const b2 = variable(new Float32Array(classes), [classes]);
  const u = variable(normal(hidden, 1), [hidden, 1], false);
  let cached: tf.Tensor | null = null;
  let disposed = false;
  const afterSteps: number[] = [];
  const afterStepContexts: (StepContext | undefined)[] = [];
  const scaled = () =>
    tf.tidy(() => {
      const unit = tf.div(u, tf.norm(u));
      const sigma = tf.norm(tf.matMul(w1, unit));
      return tf.div(w1, tf.maximum(sigma, 1));
    });
  const model: TinyModel = {
    name: `tiny(${inputSize}→${hidden}→${classes})`,
    trainableVariables: [w1, b1, w2, b2],
    stateVariables: [u],
    afterSteps,
    afterStepContexts,
    freezeCalls: 0,
    get frozen() {
      return cached != null;
    },
    apply(x) {
      return tf.tidy(() => {
        const flat = tf.reshape(x, [x.shape[0], -1]);
        const w = cached ?? scaled();
        const h = tf.relu(tf.add(tf.matMul(flat, w), b1));
        return tf.add(tf.matMul(h, w2), b2);
      });
    },
    freeze() {
      model.freezeCalls++;
      if (!cached) cached = scaled();
    },
    unfreeze() {
      cached?.dispose();
      cached = null;
    },
    async afterStep(step, context) {
      afterSteps.push(step);
      afterStepContexts.push(context);
      tf.tidy(() => {
        const next = tf.matMul(tf.transpose(w1), tf.matMul(w1, u));
        u.assign(tf.div(next, tf.norm(next)));
      });
      const delay = afterStepDelayMs();
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    },
    /** Sound: ‖W‖₂ ≤ ‖W‖_F, and the scale divides W₁ exactly as the forward does (plus float32 slack). */
    async lipschitzUpperBound() {
      const [w1v, w2v, uv] = await Promise.all([w1.data(), w2.data(), u.data()]);
      const frobenius = (values: ArrayLike<number>) => Math.sqrt(Array.from(values).reduce((s, v) => s + v * v, 0));
      const norm = frobenius(uv);
      let sigmaSq = 0;
      for (let i = 0; i < inputSize; i++) {
        let s = 0;
        for (let j = 0; j < hidden; j++) s += w1v[i * hidden + j] * (uv[j] / norm);
        sigmaSq += s * s;
      }
      const scale = Math.max(Math.sqrt(sigmaSq), 1);
      return ((frobenius(w1v) / scale) * frobenius(w2v)) * (1 + 1e-5);
    },
    /** The network it applies: flatten, dense(W₁ scaled as the forward scales it, b₁), relu, dense(W₂, b₂). */
    async exportLayers() {
      const w = cached ? tf.clone(cached) : scaled();
      const [w1s, b1v, w2v, b2v] = await Promise.all([w.data(), b1.data(), w2.data(), b2.data()]);
      w.dispose();
      return [
        { type: 'flatten' },
        { type: 'dense', weight: encodeTensor([inputSize, hidden], w1s), bias: encodeTensor([hidden], b1v) },
        { type: 'relu' },
        { type: 'dense', weight: encodeTensor([hidden, classes], w2v), bias: encodeTensor([classes], b2v) },
      ];
    },
    outputShape: () => [classes],
    dispose() {
      if (disposed) return;
      disposed = true;
      cached?.dispose();
      tf.dispose([w1, b1, w2, b2, u]);
    },
  };
  return model;
}

/**
 * `count` points in [0,1]² (as 1×2×1 images) from `classes` Gaussian blobs around fixed centres, labels
 * = blob index. Linearly separable up to the overlap of the blobs.
 */
export function blobs(count: number, { classes = 3, seed = 1, spread = 0.08 } = {}): LabeledImages {
  const rng = new SeededRandom(seed);
  const images = new Float32Array(count * 2);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const label = i % classes;
    const angle = (2 * Math.PI * label) / classes;
    const cx = 0.5 + 0.3 * Math.cos(angle);
    const cy = 0.5 + 0.3 * Math.sin(angle);
    images[2 * i] = Math.min(1, Math.max(0, cx + spread * rng.normal()));
    images[2 * i + 1] = Math.min(1, Math.max(0, cy + spread * rng.normal()));
    labels[i] = label;
  }
  return { images, labels, count, height: 1, width: 2, channels: 1, numClasses: classes, name: 'blobs' };
}

/**
 * The reference multi-class hinge loss, written here independently of @lipschitz/certify:
 * `loss_n = (1/C) Σ_{i≠y} max(0, margin − z_y + z_i)`, averaged over the batch.
 */
export function hingeLoss(margin = Math.SQRT2 * 0.3) {
  return (logits: tf.Tensor, labels: tf.Tensor): tf.Scalar =>
    tf.tidy(() => {
      const classes = logits.shape[1] as number;
      const oneHot = tf.oneHot(tf.cast(labels, 'int32'), classes);
      const target = tf.sum(tf.mul(logits, oneHot), 1, true);
      const terms = tf.mul(tf.relu(tf.add(tf.sub(logits, target), margin)), tf.sub(1, oneHot));
      return tf.div(tf.mean(tf.sum(terms, 1)), classes) as tf.Scalar;
    });
}

/** All trainable and state values of a model, as plain arrays (for bit-exact comparisons). */
export async function snapshot(model: TinyModel): Promise<number[][]> {
  return Promise.all([...model.trainableVariables, ...model.stateVariables].map(async (v) => Array.from(await v.data())));
}

/** EpochMetrics without wall-clock fields. */
export function reproducible(records: readonly object[]): Record<string, unknown>[] {
  return records.map((record) => {
    const { epochMs: _a, elapsedMs: _b, ...rest } = record as Record<string, unknown>;
    return rest;
  });
}
