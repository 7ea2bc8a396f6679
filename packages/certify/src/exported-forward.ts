import { type ExportedLayer, type ExportedModel, decodeTensor } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';

/**
 * A minimal plain-ops forward pass of a `lipschitz-model/1` network (design.md semantics), used by
 * {@link certifyExportedModel} and the tests. Not exported from the package: the official loader is
 * `loadExportedModel` in `@lipschitz/layers`.
 * @internal
 */
export interface ExportedForward {
  predict(x: tf.Tensor): tf.Tensor;
  dispose(): void;
}

interface Step {
  apply(x: tf.Tensor): tf.Tensor;
  tensors: tf.Tensor[];
}

function circularPad(x: tf.Tensor4D, kh: number, kw: number): tf.Tensor4D {
  const [, h, w] = x.shape;
  const top = Math.floor(kh / 2);
  const bottom = kh - 1 - top;
  const left = Math.floor(kw / 2);
  const right = kw - 1 - left;
  const rows: tf.Tensor4D[] = [];
  if (top > 0) rows.push(tf.slice(x, [0, h - top, 0, 0], [-1, top, -1, -1]));
  rows.push(x);
  if (bottom > 0) rows.push(tf.slice(x, [0, 0, 0, 0], [-1, bottom, -1, -1]));
  const tall = rows.length > 1 ? tf.concat(rows, 1) : x;
  const cols: tf.Tensor4D[] = [];
  if (left > 0) cols.push(tf.slice(tall, [0, 0, w - left, 0], [-1, -1, left, -1]));
  cols.push(tall);
  if (right > 0) cols.push(tf.slice(tall, [0, 0, 0, 0], [-1, -1, right, -1]));
  return cols.length > 1 ? tf.concat(cols, 2) : tall;
}

/** Sorts each group of `g` consecutive channels in descending order with max/min (differentiable). */
function groupSort(x: tf.Tensor, g: number): tf.Tensor {
  const c = x.shape[x.rank - 1];
  const grouped = tf.reshape(x, [...x.shape.slice(0, -1), c / g, g]);
  const items = tf.unstack(grouped, grouped.rank - 1);
  for (let i = 0; i < g; i++) {
    for (let j = 0; j < g - 1 - i; j++) {
      const hi = tf.maximum(items[j], items[j + 1]);
      const lo = tf.minimum(items[j], items[j + 1]);
      items[j] = hi;
      items[j + 1] = lo;
    }
  }
  return tf.reshape(tf.stack(items, grouped.rank - 1), x.shape);
}

function toStep(layer: ExportedLayer, index: number): Step {
  switch (layer.type) {
    case 'conv2d': {
      const k = decodeTensor(layer.kernel, `layer ${index} kernel`);
      const kernel = tf.tensor4d(k.values, k.shape as [number, number, number, number]);
      const bias = layer.bias ? tf.tensor1d(decodeTensor(layer.bias, `layer ${index} bias`).values) : null;
      const [kh, kw] = k.shape;
      const apply = (x: tf.Tensor) => {
        const x4 = x as tf.Tensor4D;
        const y =
          layer.padding === 'circular'
            ? tf.conv2d(circularPad(x4, kh, kw), kernel, 1, 'valid')
            : tf.conv2d(x4, kernel, 1, layer.padding === 'valid' ? 'valid' : 'same');
        return bias ? tf.add(y, bias) : y;
      };
      return { apply, tensors: bias ? [kernel, bias] : [kernel] };
    }
    case 'dense': {
      const w = decodeTensor(layer.weight, `layer ${index} weight`);
      const weight = tf.tensor2d(w.values, w.shape as [number, number]);
      const bias = layer.bias ? tf.tensor1d(decodeTensor(layer.bias, `layer ${index} bias`).values) : null;
      const apply = (x: tf.Tensor) => {
        const y = tf.matMul(x as tf.Tensor2D, weight);
        return bias ? tf.add(y, bias) : y;
      };
      return { apply, tensors: bias ? [weight, bias] : [weight] };
    }
    case 'invertibleDownsample': {
      const f = layer.factor;
      const apply = (x: tf.Tensor) => {
        const [b, h, w, c] = x.shape;
        const split = tf.reshape(x, [b, h / f, f, w / f, f, c]);
        return tf.reshape(tf.transpose(split, [0, 1, 3, 2, 4, 5]), [b, h / f, w / f, f * f * c]);
      };
      return { apply, tensors: [] };
    }
    case 'flatten':
      return { apply: (x) => tf.reshape(x, [x.shape[0], -1]), tensors: [] };
    case 'maxMin':
      return {
        apply: (x) => {
          const [a, b] = tf.split(x, 2, x.rank - 1);
          return tf.concat([tf.maximum(a, b), tf.minimum(a, b)], x.rank - 1);
        },
        tensors: [],
      };
    case 'groupSort':
      return { apply: (x) => groupSort(x, layer.groupSize), tensors: [] };
    case 'relu':
      return { apply: (x) => tf.relu(x), tensors: [] };
  }
}

/**
 * Builds the forward pass of `model`'s layers (the layers must already have been checked, e.g. by
 * `networkLipschitzUpperBound`). The returned predictor owns its weight tensors until `dispose()`.
 * @internal
 */
export function exportedForward(model: Pick<ExportedModel, 'layers'>): ExportedForward {
  const steps: Step[] = [];
  try {
    model.layers.forEach((layer, index) => {
      steps.push(toStep(layer, index));
    });
  } catch (error) {
    for (const s of steps) for (const t of s.tensors) t.dispose();
    throw error;
  }
  let disposed = false;
  return {
    predict: (x) =>
      tf.tidy(() => {
        let y = tf.cast(x, 'float32');
        for (const s of steps) y = s.apply(y);
        return y;
      }),
    dispose: () => {
      if (disposed) return;
      disposed = true;
      for (const s of steps) for (const t of s.tensors) t.dispose();
    },
  };
}
