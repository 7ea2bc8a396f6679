/**
 * Test helpers for the float-sound certificate: a float64 host forward of a `lipschitz-model/1`
 * network (the oracle for the exact network: its own rounding, ~1e-16 relative, is 2²⁹ times below
 * float32's), hostile variants of a small seeded model (crafted here, not committed as blobs), and a
 * float32-flip search against certified points.
 */
import { type ExportedLayer, type ExportedModel, decodeTensor, encodeTensor } from '@lipschitz/core';
import { spectralNorm } from '@lipschitz/linalg';
import * as tf from '@tensorflow/tfjs-core';
import { forwardOf as exportedForward, model, normalValues } from './fixtures';

/** One image through the network in float64 on the host (row-major NHWC without the batch axis). */
export function float64Forward(net: Pick<ExportedModel, 'input' | 'layers'>, image: ArrayLike<number>): Float64Array {
  let shape = [...net.input.shape];
  let x: Float64Array = Float64Array.from(image);
  for (const layer of net.layers) {
    ({ x, shape } = float64Layer(layer, x, shape));
  }
  return x;
}

function float64Layer(layer: ExportedLayer, x: Float64Array, shape: number[]): { x: Float64Array; shape: number[] } {
  const c = shape[shape.length - 1];
  switch (layer.type) {
    case 'dense': {
      const w = decodeTensor(layer.weight);
      const [n, m] = w.shape;
      const b = layer.bias ? decodeTensor(layer.bias).values : null;
      const y = new Float64Array(m);
      for (let o = 0; o < m; o++) {
        let s = b ? b[o] : 0;
        for (let i = 0; i < n; i++) s += x[i] * w.values[i * m + o];
        y[o] = s;
      }
      return { x: y, shape: [m] };
    }
    case 'conv2d': {
      const k = decodeTensor(layer.kernel);
      const [kh, kw, cin, cout] = k.shape;
      const [h, w] = shape;
      const b = layer.bias ? decodeTensor(layer.bias).values : null;
      const valid = layer.padding === 'valid';
      const oh = valid ? h - kh + 1 : h;
      const ow = valid ? w - kw + 1 : w;
      const top = layer.padding === 'circular' ? Math.floor(kh / 2) : layer.padding === 'zero-same' ? Math.floor((kh - 1) / 2) : 0;
      const left = layer.padding === 'circular' ? Math.floor(kw / 2) : layer.padding === 'zero-same' ? Math.floor((kw - 1) / 2) : 0;
      const y = new Float64Array(oh * ow * cout);
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++) {
          for (let o = 0; o < cout; o++) {
            let s = b ? b[o] : 0;
            for (let a = 0; a < kh; a++) {
              for (let bb = 0; bb < kw; bb++) {
                let r = i + a - top;
                let q = j + bb - left;
                if (layer.padding === 'circular') {
                  r = (r + h) % h;
                  q = (q + w) % w;
                } else if (r < 0 || r >= h || q < 0 || q >= w) continue;
                for (let ci = 0; ci < cin; ci++) s += x[(r * w + q) * c + ci] * k.values[((a * kw + bb) * cin + ci) * cout + o];
              }
            }
            y[(i * ow + j) * cout + o] = s;
          }
        }
      }
      return { x: y, shape: [oh, ow, cout] };
    }
    case 'invertibleDownsample': {
      const f = layer.factor;
      const [h, w] = shape;
      const y = new Float64Array(x.length);
      for (let i = 0; i < h; i++) {
        for (let j = 0; j < w; j++) {
          for (let ci = 0; ci < c; ci++) {
            const out = ((Math.floor(i / f) * (w / f) + Math.floor(j / f)) * f * f + (i % f) * f + (j % f)) * c + ci;
            y[out] = x[(i * w + j) * c + ci];
          }
        }
      }
      return { x: y, shape: [h / f, w / f, c * f * f] };
    }
    case 'flatten':
      return { x, shape: [x.length] };
    case 'relu':
      return { x: x.map((v) => Math.max(v, 0)), shape };
    case 'maxMin': {
      const y = new Float64Array(x.length);
      const half = c / 2;
      for (let p = 0; p < x.length; p += c) {
        for (let i = 0; i < half; i++) {
          y[p + i] = Math.max(x[p + i], x[p + half + i]);
          y[p + half + i] = Math.min(x[p + i], x[p + half + i]);
        }
      }
      return { x: y, shape };
    }
    case 'groupSort': {
      const g = layer.groupSize;
      const y = Float64Array.from(x);
      for (let p = 0; p < x.length; p += g) y.subarray(p, p + g).sort((u, v) => v - u);
      return { x: y, shape };
    }
  }
}

/** Index of the largest value (first on ties, as tf.argMax). */
export function argMax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

/**
 * A small seeded dense classifier: [4, 4, 1] → flatten 16 → dense 16→32 → maxMin → dense 32→32 →
 * groupSort(4) → dense 32→4, each weight divided by its spectral norm, the last one then multiplied by
 * `outputScale` (L ≈ outputScale; 16 gives logits of a trained MNIST model's size, |z| up to ~5).
 */
export function smallDenseNet(seed: number, outputScale = 1): ExportedModel {
  const dense = (n: number, m: number, s: number, scale = 1): ExportedLayer => {
    const w = normalValues(n * m, s);
    const norm = spectralNorm(Float32Array.from(w), n, m);
    return { type: 'dense', weight: encodeTensor([n, m], w.map((v) => (v / norm) * scale)), bias: encodeTensor([m], normalValues(m, s + 1, 0.05)) };
  };
  return model([4, 4, 1], [{ type: 'flatten' }, dense(16, 32, seed), { type: 'maxMin' }, dense(32, 32, seed + 10), { type: 'groupSort', groupSize: 4 }, dense(32, 4, seed + 20, outputScale)]);
}

function mapTensor(t: NonNullable<ExportedTensorLike>, f: (v: number, i: number) => number) {
  const d = decodeTensor(t);
  return encodeTensor(d.shape, Float64Array.from(d.values, f));
}
type ExportedTensorLike = Extract<ExportedLayer, { type: 'dense' }>['bias'];

/** The network with `offset` added to every class's bias in the last dense layer (argmax of f unchanged). */
export function withClassBiasOffset(net: ExportedModel, offset: number): ExportedModel {
  const layers = net.layers.map((l) => ({ ...l }));
  const last = layers[layers.length - 1];
  if (last.type !== 'dense' || !last.bias) throw new Error('withClassBiasOffset: the last layer must be a dense layer with a bias');
  layers[layers.length - 1] = { ...last, bias: mapTensor(last.bias, (v) => v + offset) };
  return { ...net, layers };
}

/**
 * Linear layer `i` (weights and bias) multiplied by 2^p and linear layer `j`'s weights by 2^-p (the
 * layers between must be positively homogeneous, as maxMin/groupSort/relu are): the exact network is
 * unchanged, and so is the product of the layer norms.
 */
export function withScaledLayers(net: ExportedModel, i: number, j: number, p: number): ExportedModel {
  const s = 2 ** p;
  const layers = net.layers.map((l) => ({ ...l }));
  const scale = (index: number, factor: number, withBias: boolean) => {
    const l = layers[index];
    if (l.type !== 'dense') throw new Error('withScaledLayers: dense layers only');
    layers[index] = { ...l, weight: mapTensor(l.weight, (v) => v * factor), ...(l.bias ? { bias: withBias ? mapTensor(l.bias, (v) => v * factor) : l.bias } : {}) };
  };
  scale(i, s, true);
  scale(j, 1 / s, false);
  return { ...net, layers };
}

/** Seeded uniform images in [lo, hi] as a host array and a tensor. */
export function uniformImages(count: number, shape: number[], seed: number, lo = 0, hi = 1): { values: Float32Array; tensor: tf.Tensor } {
  const size = shape.reduce((a, b) => a * b, 1);
  const raw = normalValues(count * size, seed);
  // a deterministic map of normals to [0, 1): the fractional part of |z|·7.
  const values = Float32Array.from(raw, (z) => lo + (hi - lo) * ((Math.abs(z) * 7) % 1));
  return { values, tensor: tf.tensor(values, [count, ...shape]) };
}

/**
 * Searches the ℓ2 balls of radius `radii[n]` around the images `x` (row-major `[count, ...inputShape]`;
 * no box constraint: a certificate covers the whole ball) for points where the float32 forward on the
 * backend, or the float64 oracle, predicts another class than `labels[n]`: for each other class j,
 * projected gradient descent on the float32 margin `z_t − z_j` (gradient from tfjs, all examples in one batch), with a
 * float32 and float64 check after each step, then along the ray through the last iterate. Examples
 * with radius ≤ 0 are skipped. Returns per example the ℓ2 distance of a flipping point, or null.
 */
export function float32FlipSearch(net: ExportedModel, x: Float32Array, labels: ArrayLike<number>, radii: ArrayLike<number>, steps = 15): (number | null)[] {
  const classes = float64Forward(net, x.subarray(0, net.input.shape.reduce((a, b) => a * b, 1))).length;
  const result: (number | null)[] = Array.from(radii, () => null);
  // one search per target class j = label + shift (mod C)
  for (let shift = 1; shift < classes; shift++) {
    const found = flipSearchTowards(net, x, labels, radii, steps, shift, classes);
    found.forEach((d, i) => {
      if (result[i] === null) result[i] = d;
    });
  }
  return result;
}

function flipSearchTowards(
  net: ExportedModel,
  x: Float32Array,
  labels: ArrayLike<number>,
  radii: ArrayLike<number>,
  steps: number,
  shift: number,
  classes: number,
): (number | null)[] {
  const forward = exportedForward(net);
  const size = net.input.shape.reduce((a, b) => a * b, 1);
  const picked = Array.from(radii, (r, i) => (r > 0 ? i : -1)).filter((i) => i >= 0);
  const result: (number | null)[] = Array.from(radii, () => null);
  if (picked.length === 0) return result;
  const count = picked.length;
  const shape = [count, ...net.input.shape];
  const origin = new Float32Array(count * size);
  picked.forEach((i, k) => {
    origin.set(x.subarray(i * size, (i + 1) * size), k * size);
  });
  const limit = picked.map((i) => radii[i] * (1 - 1e-6)); // float32 rounding of a point keeps it inside the ball
  const y = picked.map((i) => labels[i]);
  try {
    const grad = tf.grad((v: tf.Tensor) => {
      const z = forward.predict(v) as tf.Tensor2D;
      const mask = tf.oneHot(tf.tensor1d(y, 'int32'), z.shape[1]);
      const target = tf.sum(tf.mul(z, mask), 1);
      const others = tf.sum(tf.mul(z, tf.oneHot(tf.tensor1d(y.map((t) => (t + shift) % classes), 'int32'), classes)), 1);
      return tf.sum(tf.sub(target, others)) as tf.Scalar;
    });
    const check = (p: Float32Array, distances: number[]) => {
      const z = tf.tidy(() => forward.predict(tf.tensor(p, shape)).dataSync());
      const classes = z.length / count;
      for (let k = 0; k < count; k++) {
        const i = picked[k];
        if (result[i] !== null) continue;
        const point = p.subarray(k * size, (k + 1) * size);
        if (argMax(z.subarray(k * classes, (k + 1) * classes)) !== y[k] || argMax(float64Forward(net, point)) !== y[k]) result[i] = distances[k];
      }
    };
    let p = Float32Array.from(origin);
    for (let s = 0; s < steps; s++) {
      const g = tf.tidy(() => grad(tf.tensor(p, shape)).dataSync());
      const next = new Float32Array(p.length);
      const distances: number[] = [];
      for (let k = 0; k < count; k++) {
        const o = k * size;
        const step = (2.5 * limit[k]) / steps;
        let norm = 0;
        for (let j = 0; j < size; j++) norm += g[o + j] ** 2;
        norm = Math.sqrt(norm) || 1;
        let d = 0;
        for (let j = 0; j < size; j++) {
          next[o + j] = p[o + j] - (step * g[o + j]) / norm;
          d += (next[o + j] - origin[o + j]) ** 2;
        }
        d = Math.sqrt(d);
        const shrink = d > limit[k] ? limit[k] / d : 1;
        for (let j = 0; j < size; j++) next[o + j] = origin[o + j] + (next[o + j] - origin[o + j]) * shrink;
        distances.push(Math.min(d, limit[k]));
      }
      p = next;
      check(p, distances);
    }
    const last = p;
    for (let f = 1; f <= 16; f++) {
      const ray = new Float32Array(p.length);
      const distances: number[] = [];
      for (let k = 0; k < count; k++) {
        const o = k * size;
        let d = 0;
        for (let j = 0; j < size; j++) d += (last[o + j] - origin[o + j]) ** 2;
        d = Math.sqrt(d);
        const t = d > 0 ? (limit[k] * f) / 16 / d : 0;
        for (let j = 0; j < size; j++) ray[o + j] = origin[o + j] + (last[o + j] - origin[o + j]) * t;
        distances.push((limit[k] * f) / 16);
      }
      check(ray, distances);
    }
    return result;
  } finally {
    forward.dispose();
  }
}
