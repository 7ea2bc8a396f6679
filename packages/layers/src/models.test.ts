import { LipschitzError } from '@lipschitz/core';
import { describeBackends, expectClose, seededNormal, seededUniform } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { type LayerModule, type Sequential, bcopConv2d, deserializeModel, serializeModel, bjorckDense, dcganCritic, fc3, flatten, largeConvNet, maxMin, sequential, smallConvNet } from './index';

function parameterCount(model: LayerModule): number {
  return model.trainableVariables.reduce((a, v) => a + v.size, 0);
}

/** Largest ‖f(x) − f(y)‖ / ‖x − y‖ over random pairs and ‖Jᵀu‖ over random unit u: lower bounds of L. */
async function empiricalLowerBound(model: LayerModule, inputShape: number[], seed: number): Promise<number> {
  const n = 6;
  const x = seededUniform([n, ...inputShape], seed);
  const y = tf.tidy(() => tf.add(x, seededNormal([n, ...inputShape], seed + 1, 0.05)));
  const ratios = tf.tidy(() => {
    const dOut = tf.norm(tf.reshape(tf.sub(model.apply(x), model.apply(y)), [n, -1]), 'euclidean', 1);
    const dIn = tf.norm(tf.reshape(tf.sub(x, y), [n, -1]), 'euclidean', 1);
    return tf.div(dOut, dIn);
  });
  const out = model.outputShape(inputShape);
  const u = tf.tidy(() => {
    const r = seededNormal([n, ...out], seed + 2);
    return tf.div(r, tf.norm(r, 'euclidean', 1, true));
  });
  const grad = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(model.apply(t), u)))(x);
  const gradNorms = tf.norm(tf.reshape(grad, [n, -1]), 'euclidean', 1);
  const values = [...(await ratios.data()), ...(await gradNorms.data())];
  tf.dispose([x, y, ratios, u, grad, gradNorms]);
  return Math.max(...values);
}

describeBackends(
  'model parameter counts (BCOP, reference §6)',
  () => {
    it('MNIST Small 171,014; MNIST Large 2,145,482; CIFAR Large 2,637,002', () => {
      const models: [Sequential, number][] = [
        [smallConvNet({ conv: 'bcop', activation: 'maxmin', inputShape: [28, 28, 1] }), 171_014],
        [largeConvNet({ conv: 'bcop', activation: 'maxmin', inputShape: [28, 28, 1] }), 2_145_482],
        [largeConvNet({ conv: 'bcop', activation: 'maxmin', inputShape: [32, 32, 3] }), 2_637_002],
      ];
      for (const [model, count] of models) {
        expect(parameterCount(model), model.name).toBe(count);
        model.dispose();
      }
    });

    it('FC-3 and the DCGAN critic have the reference layer lists', () => {
      // Plain dense layers have the same shapes as the Björck ones and a fast init.
      const mlp = fc3({ conv: 'plain', inputShape: [28, 28, 1] });
      expect(parameterCount(mlp)).toBe(784 * 1024 + 1024 + 2 * (1024 * 1024 + 1024) + 1024 * 10 + 10);
      expect(mlp.layers.map((l) => l.config.type)).toEqual(['flatten', 'plainDense', 'maxMin', 'plainDense', 'maxMin', 'plainDense', 'maxMin', 'plainDense']);
      mlp.dispose();
      const critic = dcganCritic({ conv: 'plain', activation: 'relu', inputShape: [32, 32, 3] });
      expect(critic.layers.map((l) => l.config.type)).toEqual([
        'upsampleNearest',
        ...Array(4).fill(['plainConv2d', 'relu']).flat(),
        'flatten',
        'plainDense',
      ]);
      expect(critic.outputShape([32, 32, 3])).toEqual([1]);
      expect(critic.inputShapes([32, 32, 3]).at(-1)).toEqual([8192]);
      critic.dispose();
    });

    it('validators', () => {
      expect(() => smallConvNet({ conv: 'bcop', inputShape: [30, 30, 1] })).toThrow(/smallConvNet: the input height and width must be multiples of 4, got 30×30/);
      expect(() => smallConvNet({ conv: 'nope' as never, inputShape: [28, 28, 1] })).toThrow(/smallConvNet: conv must be one of/);
      expect(() => largeConvNet({ conv: 'bcop', activation: 'tanh' as never, inputShape: [28, 28, 1] })).toThrow(/largeConvNet: activation must be one of/);
      expect(() => fc3({ conv: 'bcop', inputShape: [28, 28] as never })).toThrow(/fc3: inputShape must be \[height, width, channels\]/);
      expect(() => dcganCritic({ conv: 'bcop', inputShape: [48, 48, 3] })).toThrow(/dcganCritic: the input must be square with a size that divides 64/);
      expect(() => smallConvNet({ conv: 'bcop', inputShape: [28, 28, 1], numClasses: 0 })).toThrow(LipschitzError);
    });
  },
  ['wasm'], // construction only; the backend CholeskyQR2 init of the large dense layers is fast on wasm
);

describeBackends('models', (backend) => {
  it('the reported bound is ≥ empirical lower bounds (random pairs, gradient norms); frozen = unfrozen', async () => {
    for (const [conv, activation] of [
      ['bcop', 'maxmin'],
      ['rko', 'relu'],
      ['plain', 'maxmin'],
    ] as const) {
      {
        const model = smallConvNet({ conv, activation, inputShape: [8, 8, 1], seed: 3 });
        const x = seededUniform([3, 8, 8, 1], 11);
        const unfrozen = model.apply(x);
        model.freeze();
        expect(model.frozen).toBe(true);
        await expectClose(model.apply(x), unfrozen, { atol: 1e-5 });
        const bound = await model.lipschitzUpperBound([8, 8, 1]);
        const lower = await empiricalLowerBound(model, [8, 8, 1], 20);
        expect(bound, `${conv}/${activation}`).toBeGreaterThanOrEqual(lower);
        if (conv !== 'plain') expect(bound).toBeLessThan(1 + 1e-4);
        const layerBounds = await model.layerBounds([8, 8, 1]);
        expect(layerBounds.length).toBe(model.layers.length);
        model.dispose();
      }
    }
  });

  it('leak check over 50 Adam training steps (numTensors flat; 3 on the slow cpu backend)', async () => {
    // A whole model with every trainable layer type of the paper's nets (strided and stride-1 BCOP,
    // Björck dense, MaxMin), small enough for 50 steps on a shared 2-core machine.
    const model = sequential([
      bcopConv2d({ inChannels: 1, outChannels: 4, kernelSize: 4, stride: 2, seed: 1 }),
      maxMin(),
      bcopConv2d({ inChannels: 4, outChannels: 4, kernelSize: 3, seed: 2 }),
      maxMin(),
      flatten(),
      bjorckDense({ inputs: 64, outputs: 10, seed: 3 }),
    ]);
    const optimizer = tf.train.adam(1e-3);
    const x = seededUniform([4, 8, 8, 1], 1);
    const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), 10);
    const step = () => {
      const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(labels, model.apply(x)) as tf.Scalar, true, model.trainableVariables);
      loss?.dispose();
    };
    for (let i = 0; i < 3; i++) step(); // creates the optimizer slots
    const before = tf.memory().numTensors;
    for (let i = 0; i < (backend === 'cpu' ? 3 : 50); i++) step();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
    optimizer.dispose();
  });
});

// A wiring test of the model builders (the layers themselves are tested on every backend in their own files).
describeBackends(
  'models with the OSSN, SVCM and Cayley convolutions',
  () => {
  it('OSSN, SVCM and Cayley variants build, bound ≥ empirical, and survive serialize → deserialize', async () => {
    for (const conv of ['ossn', 'svcm', 'cayley'] as const) {
      const model = smallConvNet({ conv, inputShape: [8, 8, 1], seed: 5 });
      const x = seededUniform([2, 8, 8, 1], 12);
      const y = model.apply(x);
      expect(y.shape).toEqual([2, 10]);
      model.freeze();
      const bound = await model.lipschitzUpperBound([8, 8, 1]);
      expect(bound, conv).toBeGreaterThanOrEqual(await empiricalLowerBound(model, [8, 8, 1], 30));
      const { model: copy } = await deserializeModel(await serializeModel(model));
      copy.freeze();
      await expectClose(copy.apply(x), model.apply(x), { atol: 1e-6 });
      model.dispose();
      copy.dispose();
    }
  });
  },
  ['wasm'],
);
