import { describeBackends, expectClose, expectNoLeaks, seededNormal } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { circularConvSingularValues, hostBlockConv, maxDeviationFromOne, polarFactor } from '../test/helpers';
import { blockConv, blockOrth, blockOrth1d } from './block-conv';
import { circularConv2d } from './circular-pad';
import { symmetricProjector } from './symmetric-projector';

/** Two n × n symmetric projectors of rank ⌊n/2⌋ from deterministic orthogonal matrices. */
function projectors(n: number): [tf.Tensor2D, tf.Tensor2D] {
  const mats = [1, 2].map((seed) => {
    const m = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) m[i * n + j] = (i === j ? 1 : 0) + 0.5 * Math.cos(seed * 3 + i - 2 * j + 0.3 * i * j);
    return Float32Array.from(polarFactor(m, n));
  });
  const p = symmetricProjector(tf.tensor3d([...mats[0], ...mats[1]], [2, n, n]));
  const [a, b] = tf.unstack(p) as tf.Tensor2D[];
  return [a, b];
}

/** Circular shift along H and W: out[p, q] = y[(p − dh) mod h, (q − dw) mod w]. */
function roll(y: tf.Tensor4D, dh: number, dw: number): tf.Tensor4D {
  const shift = (t: tf.Tensor4D, axis: 1 | 2, d: number): tf.Tensor4D => {
    if (d === 0) return t;
    const size = t.shape[axis];
    const begin = [0, 0, 0, 0];
    begin[axis] = size - d;
    const head = tf.slice(t, begin, axis === 1 ? [-1, d, -1, -1] : [-1, -1, d, -1]);
    const tail = tf.slice(t, [0, 0, 0, 0], axis === 1 ? [-1, size - d, -1, -1] : [-1, -1, size - d, -1]);
    return tf.concat([head, tail], axis);
  };
  return shift(shift(y, 1, dh), 2, dw);
}

describeBackends('blockConv', () => {
  const cases: [number[], number[]][] = [
    [[1, 1, 2, 3], [2, 2, 3, 2]],
    [[2, 2, 3, 3], [2, 2, 3, 3]],
    [[2, 3, 2, 4], [3, 1, 4, 1]],
    [[3, 3, 2, 2], [1, 2, 2, 3]],
  ];
  for (const [sa, sb] of cases) {
    it(`matches Σ a[u,v] @ b[i−u, j−v] (float64 loops) for [${sa}] □ [${sb}]`, async () => {
      const a = seededNormal(sa, 1) as tf.Tensor4D;
      const b = seededNormal(sb, 2) as tf.Tensor4D;
      const c = blockConv(a, b);
      const expected = hostBlockConv(await a.data(), sa, await b.data(), sb);
      expect(c.shape).toEqual(expected.shape);
      await expectClose(c, expected.values, { atol: 1e-5 });
    });
  }

  it('is associative', async () => {
    const a = seededNormal([2, 1, 3, 4], 1) as tf.Tensor4D;
    const b = seededNormal([2, 2, 4, 2], 2) as tf.Tensor4D;
    const c = seededNormal([1, 3, 2, 3], 3) as tf.Tensor4D;
    await expectClose(blockConv(blockConv(a, b), c), blockConv(a, blockConv(b, c)), { atol: 1e-4 });
  });

  for (const [ka, kb] of [
    [[2, 2], [2, 2]],
    [[2, 3], [2, 2]],
    [[3, 3], [3, 3]],
    [[1, 2], [3, 2]],
    [[2, 1], [1, 2]],
  ]) {
    it(`composes convolutions: conv(conv(x, a), b) = conv(x, a □ b) for ${ka.join('×')} then ${kb.join('×')}`, async () => {
      const a = seededNormal([ka[0], ka[1], 2, 3], 4) as tf.Tensor4D;
      const b = seededNormal([kb[0], kb[1], 3, 2], 5) as tf.Tensor4D;
      const ab = blockConv(a, b);
      // 'valid' (un-padded) convolutions compose exactly.
      const xv = seededNormal([1, 7, 8, 2], 6) as tf.Tensor4D;
      await expectClose(tf.conv2d(tf.conv2d(xv, a, 1, 'valid'), b, 1, 'valid'), tf.conv2d(xv, ab, 1, 'valid'), { atol: 1e-4 });
      // Circular convolutions compose up to a one-step shift along axes where both sizes are even.
      const x = seededNormal([2, 5, 6, 2], 7) as tf.Tensor4D;
      const two = circularConv2d(circularConv2d(x, a), b);
      const one = circularConv2d(x, ab);
      const dh = ka[0] % 2 === 0 && kb[0] % 2 === 0 ? 1 : 0;
      const dw = ka[1] % 2 === 0 && kb[1] % 2 === 0 ? 1 : 0;
      await expectClose(two, roll(one, dh, dw), { atol: 1e-4 });
    });
  }

  it('is differentiable in both arguments (bilinear: ∂f/∂a · a = ∂f/∂b · b = f)', async () => {
    const a = seededNormal([2, 2, 3, 3], 1) as tf.Tensor4D;
    const b = seededNormal([2, 2, 3, 3], 2) as tf.Tensor4D;
    const g = seededNormal([3, 3, 3, 3], 3);
    const f = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(blockConv(x as tf.Tensor4D, y as tf.Tensor4D), g));
    const [da, db] = tf.grads(f)([a, b]);
    const value = (await f(a, b).data())[0];
    expect((await tf.sum(tf.mul(da, a)).data())[0]).toBeCloseTo(value, 3);
    expect((await tf.sum(tf.mul(db, b)).data())[0]).toBeCloseTo(value, 3);
    // And the a-gradient is the correlation of g with b: check one entry by the host formula.
    const gs = await g.data();
    const bs = await b.data();
    let expected = 0; // ∂/∂a[0,1,2,0] = Σ_{k,l,z} b[k,l,0,z] g[k, 1 + l, 2, z]
    for (let k = 0; k < 2; k++) for (let l = 0; l < 2; l++) for (let z = 0; z < 3; z++) expected += bs[((k * 2 + l) * 3 + 0) * 3 + z] * gs[((k * 3 + 1 + l) * 3 + 2) * 3 + z];
    expect((await da.data())[((0 * 2 + 1) * 3 + 2) * 3 + 0]).toBeCloseTo(expected, 4);
  });

  it('does not leak', async () => {
    const a = seededNormal([2, 2, 3, 3], 1) as tf.Tensor4D;
    const b = seededNormal([1, 1, 3, 2], 2) as tf.Tensor4D;
    await expectNoLeaks(() => blockConv(a, a));
    await expectNoLeaks(() => blockConv(a, b));
  });

  it('validates shapes', () => {
    const a = tf.zeros([2, 2, 3, 4]) as tf.Tensor4D;
    expect(() => blockConv(a, a)).toThrow(/^blockConv: a \[2, 2, 3, 4\] has 4 output channels but b \[2, 2, 3, 4\] has 3 input channels; they must be equal/);
    expect(() => blockConv(tf.zeros([2, 3, 4]) as unknown as tf.Tensor4D, a)).toThrow(/^blockConv: a \[kh, kw, c1, c2\] must have rank 4, got rank 3/);
  });
});

describeBackends('blockOrth', () => {
  it('is [[PQ, P(I−Q)], [(I−P)Q, (I−P)(I−Q)]] = [P; I−P] □ [Q, I−Q]', async () => {
    const n = 4;
    const [p, q] = projectors(n);
    const i = tf.eye(n);
    const b = blockOrth(p, q);
    expect(b.shape).toEqual([2, 2, n, n]);
    const iP = tf.sub(i, p);
    const iQ = tf.sub(i, q);
    await expectClose(b, tf.stack([tf.matMul(p, q), tf.matMul(p, iQ), tf.matMul(iP, q), tf.matMul(iP, iQ)]), { atol: 1e-6 });
    await expectClose(b, blockConv(blockOrth1d(p, 'height'), blockOrth1d(q, 'width')), { atol: 1e-6 });
    const row = blockOrth1d(p);
    expect(row.shape).toEqual([1, 2, n, n]);
    await expectClose(row, tf.stack([p, iP]), { atol: 0 });
    expect(blockOrth1d(p, 'height').shape).toEqual([2, 1, n, n]);
  });

  it('gives orthogonal circular convolutions (exact float64 singular values all 1)', async () => {
    const n = 4;
    const [p, q] = projectors(n);
    for (const kernel of [blockOrth(p, q), blockOrth1d(p, 'height'), blockOrth1d(q), blockConv(blockOrth(p, q), blockOrth(q, p))]) {
      for (const [h, w] of [[3, 3], [4, 5]]) {
        const sv = await circularConvSingularValues(kernel, h, w);
        expect(sv).toHaveLength(h * w * n);
        expect(maxDeviationFromOne(sv)).toBeLessThan(2e-5);
      }
    }
  });

  it('does not leak', async () => {
    const [p, q] = projectors(3);
    await expectNoLeaks(() => blockOrth(p, q));
    await expectNoLeaks(() => blockOrth1d(p, 'height'));
  });

  it('validates shapes', () => {
    const p = tf.eye(3) as tf.Tensor2D;
    expect(() => blockOrth(p, tf.eye(4) as tf.Tensor2D)).toThrow(/^blockOrth: p \[3, 3\] and q \[4, 4\] must have the same size/);
    expect(() => blockOrth(tf.zeros([3, 2]) as tf.Tensor2D, p)).toThrow(/^blockOrth: p must be a square matrix \[n, n\], got \[3, 2\]/);
    expect(() => blockOrth1d(p, 'depth' as 'width')).toThrow(/^blockOrth1d: axis must be one of "height", "width", got "depth"/);
  });
});
