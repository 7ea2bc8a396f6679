import { describeBackends, expectClose, expectNoLeaks, seededNormal } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { batchSingularValues } from '../test/oracle';
import { bjorck } from './bjorck';
import { bjorckGram } from './bjorck-gram';
import { cayley } from './cayley';
import { orthogonalityError } from './orthogonality-error';
import { FAST_POLAR, ORTHOGONALIZER_PRESETS, REFERENCE_BJORCK, type OrthogonalizerSpec, orthogonalize } from './orthogonalize';
import { polarExpress } from './polar-express';

describeBackends('orthogonalityError', () => {
  it('equals √Σ(σ² − 1)² from the host singular values (tall, wide, batched)', async () => {
    for (const shape of [
      [6, 3],
      [3, 6],
      [2, 4, 4],
    ]) {
      const w = seededNormal(shape, shape.length);
      const err = orthogonalityError(w);
      expect(err.shape).toEqual(shape.slice(0, -2));
      const want = (await batchSingularValues(w)).map((svs) => Math.sqrt(svs.reduce((acc, s) => acc + (s * s - 1) ** 2, 0)));
      await expectClose(err, want, { rtol: 1e-5, atol: 1e-5 });
    }
    await expectClose(orthogonalityError(tf.eye(5)), [0], { atol: 0 });
  });

  it('leaves no tensors behind and validates', async () => {
    const w = seededNormal([4, 2], 3);
    await expectNoLeaks(() => orthogonalityError(w));
    await expectNoLeaks(() => tf.grad((x: tf.Tensor) => orthogonalityError(x) as tf.Scalar)(w));
    expect(() => orthogonalityError(tf.zeros([2]))).toThrow(/^orthogonalityError: w must have rank >= 2/);
  });
});

describeBackends('orthogonalize', () => {
  it('dispatches on kind; the default is the reference Björck', async () => {
    const w = seededNormal([10, 4], 1);
    await expectClose(orthogonalize(w, { ...REFERENCE_BJORCK, seed: 2 } as OrthogonalizerSpec), bjorck(w, { seed: 2 }), { atol: 0 });
    await expectClose(orthogonalize(w, { kind: 'bjorck-gram', seed: 2 }), bjorckGram(w, { seed: 2 }), { atol: 0 });
    await expectClose(orthogonalize(w, FAST_POLAR), polarExpress(w), { atol: 0 });
    await expectClose(orthogonalize(w, { kind: 'cayley' }), cayley(w), { atol: 0 });
    // the default and every preset reach an orthonormal result (cayley: a different one)
    for (const spec of [undefined, ...Object.values(ORTHOGONALIZER_PRESETS)]) {
      const q = orthogonalize(w, spec);
      expect(q.shape).toEqual([10, 4]);
      expect((await orthogonalityError(q).data())[0]).toBeLessThan(1e-5);
    }
    expect(REFERENCE_BJORCK).toEqual({ kind: 'bjorck', iterations: 20, beta: 0.5, order: 1, scaling: 'power', powerIterations: 10 });
  });

  it('the polar schemes agree with each other to float32 precision', async () => {
    const w = seededNormal([3, 12, 5], 4);
    const ref = bjorck(w, { iterations: 30 });
    await expectClose(orthogonalize(w, ORTHOGONALIZER_PRESETS.referenceGram), ref, { atol: 3e-6 });
    await expectClose(orthogonalize(w, FAST_POLAR), ref, { atol: 3e-6 });
  });

  it('rejects an unknown kind', () => {
    expect(() => orthogonalize(tf.eye(2), { kind: 'qr' } as never)).toThrow(
      /^orthogonalize: spec.kind must be one of "bjorck", "bjorck-gram", "polar-express", "cayley", got "qr"/,
    );
    expect(() => orthogonalize(tf.eye(2), null as never)).toThrow(/^orthogonalize: spec must be an object with a kind/);
  });
});
