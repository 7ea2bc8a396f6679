import { crc32, inflateSync } from 'node:zlib';
import { SeededRandom } from '@lipschitz/core';
import { describeBackends, expectClose, expectNoLeaks, finiteDifferenceGradient } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { Discriminator, leakyRelu2 } from '../src/gan/discriminator';
import { Generator, type GeneratorConfig } from '../src/gan/generator';
import { table4Critic } from '../src/gan/table4-critic';
import { WganGpTrainer, gradientPenalty } from '../src/gan/wgan-gp';
import { grayscalePng } from '../src/report';

// Small sizes keep the cpu backend fast; the architecture is the same as the reference's.
const TINY: GeneratorConfig = { latentDim: 6, hidden: 2, dense: 8, channels: 3 };

describeBackends('Generator', () => {
  it('maps [batch, latentDim] codes to [batch, 28, 28, 1] images in [−1, 1]', async () => {
    const g = new Generator(TINY, 0);
    const images = g.generate(5, new SeededRandom(1));
    expect(images.shape).toEqual([5, 28, 28, 1]);
    const values = await images.data();
    expect(Math.min(...values)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...values)).toBeLessThanOrEqual(1);
    expect(new Set(values).size).toBeGreaterThan(100); // not constant
    g.dispose();
  });

  it('uses batch statistics: a sample changes with the other samples of its batch, and batches of ≥ 2 are formed', async () => {
    const g = new Generator(TINY, 0);
    const z = g.latent(4, new SeededRandom(2));
    const all = g.apply(z);
    const firstTwo = tf.slice(z, 0, 2);
    const part = g.apply(firstTwo);
    const a = (await all.data()).slice(0, 784);
    const b = (await part.data()).slice(0, 784);
    expect(Math.max(...a.map((v, i) => Math.abs(v - b[i])))).toBeGreaterThan(1e-4);
    expect(() => g.apply(tf.slice(z, 0, 1))).toThrow(/Generator.apply: z must be \[batch ≥ 2, 6\]/);
    // 65 with batches of 64 would leave a batch of one: it is split 63 + 2.
    expect(g.generate(65, new SeededRandom(3), 64).shape).toEqual([65, 28, 28, 1]);
    expect(() => g.generate(1, new SeededRandom(3))).toThrow(/Generator.generate: count must be at least 2/);
    g.dispose();
  });

  it('round-trips through a checkpoint exactly and rejects a corrupt one', async () => {
    const g = new Generator(TINY, 4);
    const checkpoint = JSON.parse(JSON.stringify(await g.toCheckpoint({ stage: 'x' })));
    const h = Generator.fromCheckpoint(checkpoint);
    const z = g.latent(3, new SeededRandom(5));
    await expectClose(h.apply(z), await g.apply(z).data(), { atol: 0, rtol: 0 });
    expect(() => Generator.fromCheckpoint({ ...checkpoint, format: 'other' })).toThrow(/is not a wgan-generator\/1 file/);
    const bad = { ...checkpoint, config: { ...TINY, dense: 9 } };
    expect(() => Generator.fromCheckpoint(bad)).toThrow(/tensor fc1Weight has shape \[6, 8\], expected \[6, 9\]/);
    expect(() => new Generator({ ...TINY, hidden: 0 }, 0)).toThrow(/Generator: config.hidden must be a positive integer/);
    g.dispose();
    h.dispose();
    expect(() => g.apply(z)).toThrow(/disposed/);
  });

  it('leaks no tensors', async () => {
    const g = new Generator(TINY, 0);
    const rng = new SeededRandom(0);
    await expectNoLeaks(() => g.generate(3, rng));
    g.dispose();
  });
});

describeBackends('WGAN-GP', () => {
  it('leakyRelu2 equals LeakyReLU(0.2)', async () => {
    const x = tf.tensor1d([-3, -0.5, 0, 0.25, 2]);
    await expectClose(leakyRelu2(x), [-0.6, -0.1, 0, 0.25, 2], { atol: 1e-7 });
  });

  // A tiny conv critic on 5×5×1 inputs, so finite differences over every input and many weights are cheap.
  const tinyCritic = () => {
    const rng = new SeededRandom(7);
    const w = tf.variable(tf.tensor4d(Float32Array.from({ length: 18 }, () => rng.normal()), [3, 3, 1, 2]));
    const v = tf.variable(tf.tensor2d(Float32Array.from({ length: 18 }, () => rng.normal() * 0.5), [18, 1]));
    const apply = (x: tf.Tensor) => tf.matMul(tf.reshape(leakyRelu2(tf.conv2d(x as tf.Tensor4D, w, 2, 'same')), [-1, 18]), v);
    return { w, v, apply };
  };

  it('the gradient penalty equals (‖∇x D‖ − 1)² with ∇x D from finite differences, and its weight gradient matches finite differences', async () => {
    const { w, v, apply } = tinyCritic();
    const rng = new SeededRandom(8);
    const real = tf.tensor4d(Float32Array.from({ length: 50 }, () => rng.normal()), [2, 5, 5, 1]);
    const fake = tf.tensor4d(Float32Array.from({ length: 50 }, () => rng.normal()), [2, 5, 5, 1]);
    const epsilon = tf.tensor1d([0.3, 0.8]);
    const gp = (await gradientPenalty(apply, real, fake, epsilon).data())[0];
    // Oracle: per-sample input gradients by central differences of D (piecewise linear, so exact off the kinks).
    const interpolates = tf.add(tf.mul(tf.reshape(epsilon, [2, 1, 1, 1]), real), tf.mul(tf.reshape(tf.sub(1, epsilon), [2, 1, 1, 1]), fake));
    let expected = 0;
    for (let n = 0; n < 2; n++) {
      const fd = await finiteDifferenceGradient((x) => tf.sum(tf.slice(apply(x), [n, 0], [1, 1])) as tf.Scalar, interpolates, 1e-3, Array.from({ length: 25 }, (_, i) => n * 25 + i));
      const norm = Math.sqrt([...fd.values()].reduce((s, g) => s + g * g, 0));
      expected += (norm - 1) ** 2 / 2;
    }
    expect(Math.abs(gp - expected)).toBeLessThan(1e-3 * Math.max(1, expected));
    // Second order: d GP / d weights (a gradient of a gradient) against finite differences of GP in the weights.
    const { grads } = tf.variableGrads(() => gradientPenalty(apply, real, fake, epsilon), [w, v]);
    for (const variable of [w, v] as tf.Variable[]) {
      const analytic = await grads[variable.name].data();
      const original = variable.clone();
      const fd = await finiteDifferenceGradient(
        (t) => {
          variable.assign(t);
          return gradientPenalty(apply, real, fake, epsilon);
        },
        original,
        1e-2,
        [0, 3, 7, 11, 17],
      );
      variable.assign(original);
      for (const [i, g] of fd) expect(Math.abs(analytic[i] - g), `${variable.name}[${i}]`).toBeLessThan(2e-3 + 2e-2 * Math.abs(g));
      original.dispose();
    }
    expect(() => gradientPenalty(apply, real, tf.zeros([3, 5, 5, 1]), epsilon)).toThrow(/gradientPenalty: real \[2, 5, 5, 1\] and fake \[3, 5, 5, 1\] must match/);
  });

  it('alternates critic and generator steps without leaking, and the critic objective is finite', async () => {
    const g = new Generator(TINY, 0);
    const d = new Discriminator({ channels1: 2, channels2: 2 }, 1);
    const trainer = new WganGpTrainer(g, d);
    const rng = new SeededRandom(0);
    const real = tf.randomUniform([4, 28, 28, 1], -1, 1, 'float32', 3);
    const before = await d.trainableVariables[0].data();
    const first = await trainer.criticStep(real, rng);
    expect(Number.isFinite(first.wassersteinEstimate) && first.gradientPenalty >= 0).toBe(true);
    expect(Math.max(...(await d.trainableVariables[0].data()).map((x, i) => Math.abs(x - before[i])))).toBeGreaterThan(0);
    await expectNoLeaks(async () => {
      await trainer.criticStep(real, rng);
      await trainer.generatorStep(4, rng);
    }, 2);
    trainer.dispose();
    g.dispose();
    d.dispose();
    expect(() => d.apply(real)).toThrow(/Discriminator.apply: this discriminator was disposed/);
  });
});

describeBackends('table4Critic', () => {
  it('is the DCGAN critic adapted to 32×32×1 (4 stride-2 convs, widths w..8w), 1-Lipschitz by its sound bound, and validates its options', async () => {
    const critic = table4Critic({ conv: 'rko', activation: 'maxmin', width: 2 });
    const y = critic.apply(tf.zeros([3, 32, 32, 1]));
    expect(y.shape).toEqual([3, 1]);
    expect(await critic.lipschitzUpperBound([32, 32, 1])).toBeLessThanOrEqual(1 + 1e-4);
    expect(critic.outputShape([32, 32, 1])).toEqual([1]);
    critic.dispose();
    expect(() => table4Critic({ conv: 'rko', activation: 'maxmin', width: 0 })).toThrow(/table4Critic: width must be a positive integer/);
    expect(() => table4Critic({ conv: 'rko', activation: 'maxmin', width: 2, size: 24 })).toThrow(/table4Critic: size must be a multiple of 16/);
    expect(() => table4Critic({ conv: 'svcm' as 'rko', activation: 'maxmin', width: 2 })).toThrow(/table4Critic: conv must be one of bcop, rko, ossn, cayley/);
  });
});

it('grayscalePng writes a valid PNG whose IDAT inflates back to the pixels (filter 0 rows)', () => {
  const pixels = Uint8Array.from({ length: 12 }, (_, i) => i * 20);
  const png = Buffer.from(grayscalePng(4, 3, pixels));
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  expect(png.readUInt32BE(16)).toBe(4);
  expect(png.readUInt32BE(20)).toBe(3);
  const idat = png.indexOf('IDAT');
  const raw = inflateSync(png.subarray(idat + 4, idat + 4 + png.readUInt32BE(idat - 4)));
  expect([...raw]).toEqual([0, 0, 20, 40, 60, 0, 80, 100, 120, 140, 0, 160, 180, 200, 220]);
  expect(crc32(png.subarray(idat, idat + 4 + png.readUInt32BE(idat - 4)))).toBe(png.readUInt32BE(idat + 4 + png.readUInt32BE(idat - 4)));
  expect(() => grayscalePng(4, 4, pixels)).toThrow(/grayscalePng: 4×4 needs 16 pixels, got 12/);
});
