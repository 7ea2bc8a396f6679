import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ExportedModel, encodeTensor } from '@lipschitz/core';
import { moduleLipschitzBound } from '@lipschitz/model-format';
import { describeBackends, expectClose, expectNoLeaks, seededUniform } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, expect, it } from 'vitest';
import {
  type LayerModule,
  bcopConv2d,
  bjorckDense,
  flatten,
  maxMin,
  ossnConv2d,
  rkoConv2d,
  deserializeModel,
  exportModel,
  groupSort,
  loadExportedModel,
  loadModel,
  plainConv2d,
  saveModel,
  sequential,
  serializeModel,
  smallConvNet,
  upsampleNearest,
} from './index';

const dir = mkdtempSync(join(tmpdir(), 'layers-persistence-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Rewrites the JSON header of a serialized model. */
function withHeader(bytes: Uint8Array, edit: (header: Record<string, unknown>) => void): Uint8Array {
  const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + length)));
  edit(header);
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(12 + json.length + bytes.length - 12 - length);
  out.set(bytes.subarray(0, 8));
  new DataView(out.buffer).setUint32(8, json.length, true);
  out.set(json, 12);
  out.set(bytes.subarray(12 + length), 12 + json.length);
  return out;
}

async function trainSteps(model: LayerModule, optimizer: tf.Optimizer, steps: number): Promise<void> {
  const x = seededUniform([4, 8, 8, 1], 3);
  const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), 10);
  for (let i = 0; i < steps; i++) {
    optimizer.minimize(() => tf.losses.softmaxCrossEntropy(labels, model.apply(x)) as tf.Scalar, false, model.trainableVariables);
  }
  tf.dispose([x, labels]);
}

describeBackends('save / load', (backend) => {
  it("an OSSN model's state (power-iteration vector and factor) is saved and restored with its weights", async () => {
    const model = sequential([ossnConv2d({ inChannels: 1, outChannels: 2, kernelSize: 3, inputSize: [6, 6], seed: 3 }), flatten()]);
    const optimizer = tf.train.sgd(0.5);
    const x = seededUniform([2, 6, 6, 1], 4);
    for (let step = 1; step <= 3; step++) {
      optimizer.minimize(() => tf.sum(tf.square(model.apply(x))) as tf.Scalar, false, model.trainableVariables);
      await model.afterStep?.(step);
    }
    expect(model.stateVariables).toHaveLength(2);
    const { model: copy } = await deserializeModel(await serializeModel(model));
    const read = (m: LayerModule) => Promise.all(m.stateVariables.map(async (v) => Array.from(await v.data())));
    const fresh = sequential([ossnConv2d({ inChannels: 1, outChannels: 2, kernelSize: 3, inputSize: [6, 6], seed: 3 }), flatten()]);
    expect(await read(model)).not.toEqual(await read(fresh));
    expect(await read(copy)).toEqual(await read(model));
    model.freeze();
    copy.freeze();
    const [a, b] = [model.apply(x), copy.apply(x)];
    expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
    tf.dispose([a, b, x]);
    optimizer.dispose();
    for (const m of [model, copy, fresh]) m.dispose();
  });

  it('save → load gives identical outputs, and the restored Adam state continues identically', async () => {
    const model = sequential([
      bcopConv2d({ inChannels: 1, outChannels: 4, kernelSize: 4, stride: 2, seed: 1 }),
      maxMin(),
      rkoConv2d({ inChannels: 4, outChannels: 4, kernelSize: 3, seed: 2 }),
      maxMin(),
      flatten(),
      bjorckDense({ inputs: 64, outputs: 10, seed: 3 }),
    ]);
    const optimizer = tf.train.adam(1e-2);
    await trainSteps(model, optimizer, 2);
    const file = join(dir, `model-${backend}.lpz`);
    await saveModel(model, file, { optimizer, metadata: { epoch: 2 } });
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const restoredOptimizer = tf.train.adam(1e-2);
    const { model: loaded, metadata, optimizerRestored } = await loadModel(file, { optimizer: restoredOptimizer });
    expect(metadata).toEqual({ epoch: 2 });
    expect(optimizerRestored).toBe(true);
    const x = seededUniform([3, 8, 8, 1], 9);
    await expectClose(loaded.apply(x), model.apply(x), { atol: 0 });
    // One more step on both: same variables iff the optimizer state was restored.
    await trainSteps(model, optimizer, 1);
    await trainSteps(loaded, restoredOptimizer, 1);
    for (let i = 0; i < model.variables.length; i++) await expectClose(loaded.variables[i], model.variables[i], { atol: 1e-6 });
    model.dispose();
    loaded.dispose();
  });

  it('in-memory serialize / deserialize round-trips every layer type', async () => {
    const model = sequential([plainConv2d({ inChannels: 2, outChannels: 4, kernelSize: 3, padding: 'zero-same', seed: 1 }), groupSort({ groupSize: 4 }), upsampleNearest({ factor: 2 })]);
    const { model: copy } = await deserializeModel(await serializeModel(model));
    expect(copy.config).toEqual(model.config);
    const x = seededUniform([1, 4, 4, 2], 1);
    await expectClose(copy.apply(x), model.apply(x), { atol: 0 });
    await expectNoLeaks(async () => (await deserializeModel(await serializeModel(model))).model.dispose());
  });

  it('corrupt or mismatched data raises CORRUPT_DATA / SHAPE_MISMATCH', async () => {
    const model = smallConvNet({ conv: 'rko', inputShape: [8, 8, 1] });
    const bytes = await serializeModel(model);
    const tensorsBefore = tf.memory().numTensors;
    const flipped = bytes.slice();
    flipped[flipped.length - 5] ^= 0xff;
    await expect(deserializeModel(flipped)).rejects.toThrow(/deserializeModel: the weight bytes do not match their checksum/);
    await expect(deserializeModel(bytes.subarray(0, bytes.length - 4))).rejects.toThrow(/deserializeModel: expected \d+ weight bytes, found \d+/);
    await expect(deserializeModel(new TextEncoder().encode('hello world, not a model'))).rejects.toThrow(/deserializeModel: this is not a saved model/);
    const badJson = bytes.slice();
    badJson[13] = 0x7b;
    badJson[14] = 0x7b;
    await expect(deserializeModel(badJson)).rejects.toMatchObject({ code: 'CORRUPT_DATA' });
    const unknown = withHeader(bytes, (h) => {
      (h.config as { options: { layers: { type: string }[] } }).options.layers[0].type = 'mysteryConv';
    });
    await expect(deserializeModel(unknown)).rejects.toThrow(/layerFromConfig: unknown layer type 'mysteryConv'/);
    const mismatched = withHeader(bytes, (h) => {
      const layers = (h.config as { options: { layers: { options: { outputs?: number } }[] } }).options.layers;
      layers[layers.length - 1].options.outputs = 5;
    });
    await expect(deserializeModel(mismatched)).rejects.toMatchObject({ code: 'SHAPE_MISMATCH' });
    expect(tf.memory().numTensors).toBe(tensorsBefore); // the partly built models were disposed
    const file = join(dir, 'corrupt.lpz');
    writeFileSync(file, flipped);
    await expect(loadModel(file)).rejects.toMatchObject({ code: 'CORRUPT_DATA' });
    await expect(loadModel(join(dir, 'missing.lpz'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(saveModel(model, join(dir, 'no-such-dir', 'm.lpz'))).rejects.toMatchObject({ code: 'IO_ERROR' });
    expect(readFileSync(file).length).toBe(flipped.length);
    model.dispose();
  });
});

describeBackends('export', () => {
  it('export → loadExportedModel reproduces the frozen model within 1e-5 (plain tfjs ops)', async () => {
    for (const conv of ['bcop', 'rko', 'plain'] as const) {
      const model = smallConvNet({ conv, activation: conv === 'rko' ? 'relu' : 'maxmin', inputShape: [8, 8, 1], seed: 4 });
      model.freeze();
      const file = await exportModel(model, { inputShape: [8, 8, 1], metadata: { conv } });
      expect(file.format).toBe('lipschitz-model/1');
      expect(file.input).toEqual({ shape: [8, 8, 1], range: [0, 1] });
      expect(file.layers.map((l) => l.type)).toEqual([
        'invertibleDownsample',
        'conv2d',
        conv === 'rko' ? 'relu' : 'maxMin',
        'invertibleDownsample',
        'conv2d',
        conv === 'rko' ? 'relu' : 'maxMin',
        'flatten',
        'dense',
        conv === 'rko' ? 'relu' : 'maxMin',
        'dense',
      ]);
      // the file states the exact network's bound, the L the float-sound certificates use and report
      // (below the old rule's, which carries the float32 slack (1 + 1e-5) per conv/dense layer)
      const bound = await moduleLipschitzBound(model, [8, 8, 1]);
      expect(file.lipschitzUpperBound).toBe(bound.lipschitzUpperBound);
      expect(file.lipschitzUpperBound).toBeLessThan(bound.assumedFloat32Bound);
      const runner = loadExportedModel(JSON.stringify(file));
      expect(runner.outputShape).toEqual([10]);
      const x = seededUniform([5, 8, 8, 1], 6);
      await expectClose(runner.predict(x), model.apply(x), { atol: 1e-5 });
      await expectNoLeaks(() => runner.predict(x));
      runner.dispose();
      runner.dispose();
      expect(() => runner.predict(x)).toThrow(/loadExportedModel.predict: this model was disposed/);
      model.dispose();
    }
  });

  it('zero-same and valid paddings, groupSort and relu run as in the model', async () => {
    const model = sequential([
      plainConv2d({ inChannels: 1, outChannels: 4, kernelSize: 3, padding: 'zero-same', seed: 1 }),
      groupSort({ groupSize: 4 }),
      plainConv2d({ inChannels: 4, outChannels: 2, kernelSize: 2, padding: 'valid', seed: 2 }),
    ]);
    const runner = loadExportedModel(await exportModel(model, { inputShape: [5, 5, 1], range: [-1, 1] }));
    const x = seededUniform([2, 5, 5, 1], 2, -1, 1);
    await expectClose(runner.predict(x), model.apply(x), { atol: 1e-5 });
    expect(runner.input.range).toEqual([-1, 1]);
    await expect(exportModel(upsampleNearest({ factor: 2 }), { inputShape: [4, 4, 1] })).rejects.toMatchObject({ code: 'UNSUPPORTED_CONFIGURATION' });
    await expect(exportModel(model, { inputShape: [5, 5, 1], range: [1, 0] })).rejects.toThrow(/exportModel: range must be \[min, max\] with min < max/);
  });

  it('invalid files raise CORRUPT_DATA', () => {
    const good: ExportedModel = {
      format: 'lipschitz-model/1',
      input: { shape: [4], range: [0, 1] },
      layers: [{ type: 'dense', weight: encodeTensor([4, 2], [1, 0, 0, 1, 0, 0, 0, 0]), bias: encodeTensor([2], [0, 0]) }],
      lipschitzUpperBound: 1,
    };
    expect(loadExportedModel(good).outputShape).toEqual([2]);
    const bad = (edit: (m: Record<string, unknown>) => void) => {
      const copy = JSON.parse(JSON.stringify(good));
      edit(copy);
      return () => loadExportedModel(copy);
    };
    expect(bad((m) => (m.format = 'lipschitz-model/2'))).toThrow(/validateExportedModel: format must be "lipschitz-model\/1"/);
    expect(bad((m) => ((m.layers as object[])[0] = { type: 'softmax' }))).toThrow(/validateExportedModel: layer 0 \(softmax\): unknown layer type/);
    expect(bad((m) => ((m.layers as { weight: { data: string } }[])[0].weight.data = 'AAAA'))).toThrow(/validateExportedModel: layer 0 \(dense\) weight has 3 bytes/);
    expect(bad((m) => ((m.layers as { weight: { shape: number[] } }[])[0].weight.shape = [2, 4]))).toThrow(/validateExportedModel: layer 0 \(dense\): dense weight expects 2 inputs, the input has 4/);
    expect(bad((m) => ((m.layers as object[]).unshift({ type: 'conv2d', padding: 'circular', kernel: encodeTensor([1, 1, 1, 1], [1]) })))).toThrow(
      /validateExportedModel: layer 0 \(conv2d\): conv2d needs an \[h, w, c\] input/,
    );
    expect(bad((m) => (m.lipschitzUpperBound = 'one'))).toThrow(/validateExportedModel: lipschitzUpperBound must be a non-negative finite number/);
    expect(() => loadExportedModel('{not json')).toThrow(/validateExportedModel: the text is not valid JSON/);
    for (const f of [bad((m) => (m.format = 'x')), bad((m) => (m.input = null))]) {
      try {
        f();
      } catch (e) {
        expect((e as { code: string }).code).toBe('CORRUPT_DATA');
      }
    }
  });
});
