/**
 * What is tested: the float64 host forward (hostForward64) against the plain float64 oracle of the
 * tests (test/float-soundness.ts, written independently from the format's definition) on conv nets of
 * every padding (circular, zero-same with a kernel larger than the map, valid), every activation,
 * downsampling and dense layers; its per-layer sums (‖|W||ẑ| + |b|‖², max, ‖ŝ‖², ‖ẑ‖²) against direct
 * computations on the oracle's activations; float32ErrorBound's centerLogits/centerError (the center
 * error covers the distance to the oracle, and is ~1e-13 relative).
 * What is not tested here: the float32 bound itself (float-error-bound.test.ts, test/float-soundness.test.ts).
 */
import { type ExportedLayer, decodeTensor, encodeTensor } from '@lipschitz/core';
import { certifyLogitValues, validateExportedModel } from '@lipschitz/model-format';
import * as tf from '@tensorflow/tfjs-core';
import { describeBackends } from '@lipschitz/test-utils';
import { describe, expect, it } from 'vitest';
import { conv, dense, model, normalValues, unitConvNet } from '../test/fixtures';
import { float64Forward, smallDenseNet } from '../test/float-soundness';
import { float32ErrorBound } from './float-error-bound';
import { hostForward64 } from './host-forward64';

const nets = {
  unit: unitConvNet(5),
  mixed: model([6, 6, 2], [
    conv([3, 3, 2, 4], 31, 'zero-same', { scale: 0.7 }),
    { type: 'groupSort', groupSize: 2 },
    conv([2, 2, 4, 6], 33, 'valid', { scale: 0.5 }),
    { type: 'relu' },
    conv([7, 7, 6, 4], 37, 'zero-same', { scale: 0.2, bias: false }),
    { type: 'flatten' },
    dense(100, 5, 35, { scale: 0.3 }),
  ]),
  circular4: model([4, 4, 3], [conv([4, 4, 3, 2], 41, 'circular'), { type: 'maxMin' }, { type: 'flatten' }, dense(32, 3, 43)]),
  dense: smallDenseNet(3, 32),
};

/** The same conv2d/dense layer with |weights| and |bias|. */
function absoluteLayer(layer: ExportedLayer): ExportedLayer {
  const abs = (t: Parameters<typeof decodeTensor>[0]) => {
    const d = decodeTensor(t);
    return encodeTensor(d.shape, Float64Array.from(d.values, Math.abs));
  };
  if (layer.type === 'dense') return { ...layer, weight: abs(layer.weight), ...(layer.bias ? { bias: abs(layer.bias) } : {}) };
  if (layer.type === 'conv2d') return { ...layer, kernel: abs(layer.kernel), ...(layer.bias ? { bias: abs(layer.bias) } : {}) };
  return layer;
}

describe('hostForward64', () => {
  for (const [name, net] of Object.entries(nets)) {
    it(`${name}: logits and per-layer sums match the float64 oracle`, () => {
      const size = net.input.shape.reduce((a, b) => a * b, 1);
      const count = 5;
      const x = Float64Array.from(normalValues(count * size, 9), (v) => Math.fround(Math.abs(v) % 1));
      const validated = validateExportedModel(net);
      const result = hostForward64(validated).run(x, count);
      const linear = validated.layers.filter((r) => r.type === 'dense' || r.type === 'conv2d');
      expect(result.linear.map((s) => s.index)).toEqual(linear.map((r) => r.index));
      for (let e = 0; e < count; e++) {
        const image = x.subarray(e * size, (e + 1) * size);
        const exact = float64Forward(net, image);
        expect(result.classes).toBe(exact.length);
        for (let j = 0; j < exact.length; j++) expect(result.logits[e * exact.length + j]).toBeCloseTo(exact[j], 12);
        // the sums of each linear layer, from the oracle's activations entering it
        linear.forEach((row, k) => {
          const before = float64Forward({ input: net.input, layers: net.layers.slice(0, row.index) }, image);
          const pre = float64Forward({ input: { ...net.input, shape: row.inputShape }, layers: [row.layer] }, before);
          const absSums = float64Forward({ input: { ...net.input, shape: row.inputShape }, layers: [absoluteLayer(row.layer)] }, before.map(Math.abs));
          const squares = (v: ArrayLike<number>) => Array.from(v).reduce((s, t) => s + t * t, 0);
          const stats = result.linear[k];
          expect(stats.preSquares[e]).toBeCloseTo(squares(pre), 8);
          expect(stats.inputSquares[e]).toBeCloseTo(squares(before), 8);
          expect(stats.absSquares[e]).toBeCloseTo(squares(absSums), 8);
          expect(stats.absMax[e]).toBeCloseTo(Math.max(...absSums), 10);
          // |W||ẑ| + |b| ≥ |W ẑ + b| componentwise, so its norm is at least the pre-activation's
          expect(stats.absSquares[e]).toBeGreaterThanOrEqual(stats.preSquares[e]);
        });
      }
    });
  }

});

describeBackends('float32ErrorBound center logits', () => {
  it('float32ErrorBound returns the host logits with a center error that covers the distance to the oracle', async () => {
    for (const net of Object.values(nets)) {
      const size = net.input.shape.reduce((a, b) => a * b, 1);
      const images = tf.randomUniform([6, ...net.input.shape], 0, 1, 'float32', 3);
      try {
        const values = (await images.data()) as Float32Array;
        const r = await float32ErrorBound(net.input.shape, net.layers, images);
        for (let e = 0; e < 6; e++) {
          const exact = float64Forward(net, values.subarray(e * size, (e + 1) * size));
          let d = 0;
          for (let j = 0; j < r.classes; j++) d += (r.error.centerLogits[e * r.classes + j] - exact[j]) ** 2;
          // both are float64 evaluations with the same proven bound, so they are within 2·centerError
          expect(Math.sqrt(d)).toBeLessThanOrEqual(2 * r.error.centerError[e]);
          expect(r.error.centerError[e]).toBeGreaterThan(0);
          expect(r.error.centerError[e]).toBeLessThan(1e-11 * Math.max(1, Math.hypot(...exact)));
          // the float32 error bound is ~1e4× larger: the center costs nothing
          expect(r.error.centerError[e] * 1e3).toBeLessThan(r.error.constant[e]);
        }
      } finally {
        images.dispose();
      }
    }
  });

  it('center: { epsilons } runs the host pass only where it can decide a certificate, with the same counts as all; none keeps E(0)', async () => {
    const net = smallDenseNet(3, 32);
    const size = 16;
    const images = tf.randomUniform([200, 4, 4, 1], 0, 1, 'float32', 21);
    try {
      const values = (await images.data()) as Float32Array;
      const labels = Array.from({ length: 200 }, (_, i) => {
        const z = float64Forward(net, values.subarray(i * size, (i + 1) * size));
        return z.indexOf(Math.max(...z));
      });
      const all = await float32ErrorBound(net.input.shape, net.layers, images);
      // a radius that puts image 0 in the middle of the band √2(L + b)ε < m̃ ≤ √2(L + b)ε + 2√2a
      const top = Array.from(all.logits.subarray(0, all.classes)).sort((p, q) => q - p);
      const epsilons = [(top[0] - top[1] - Math.SQRT2 * all.error.constant[0]) / (Math.SQRT2 * (all.lipschitz + all.error.perRadius)), 0.05];
      const some = await float32ErrorBound(net.input.shape, net.layers, images, { center: { epsilons } });
      const none = await float32ErrorBound(net.input.shape, net.layers, images, { center: 'none' });
      expect(Array.from(none.error.centerError)).toEqual(Array.from(none.error.constant));
      expect(Array.from(none.error.centerLogits)).toEqual(Array.from(none.logits));
      const refined = Array.from(some.error.centerError).filter((c, i) => c < some.error.constant[i]).length;
      expect(refined).toBeGreaterThan(0);
      expect(refined).toBeLessThan(200);
      const rule = (r: typeof all) => certifyLogitValues('t', r.logits, labels, 200, r.classes, r.lipschitz, epsilons, r.error).certified;
      expect(rule(some)).toEqual(rule(all));
      // the host logits certify at least what the float32 logits with E(0) do
      for (const e of epsilons) expect(rule(all)[String(e)]).toBeGreaterThanOrEqual(rule(none)[String(e)]);
      await expect(float32ErrorBound(net.input.shape, net.layers, images, { center: 'some' as never })).rejects.toThrow(/^float32ErrorBound: options.center must be/);
    } finally {
      images.dispose();
    }
  });
});
