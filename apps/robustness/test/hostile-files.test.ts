/**
 * What is tested: every hostile lipschitz-model/1 file of issue 16 (items 2 and 3: malformed biases,
 * groupSort sizes, an all-zero network, unknown fields, bad input ranges, non-finite values, wrong byte
 * lengths and dtypes, memory bombs) is refused by EVERY reader — the validator, `loadExportedModel`
 * (model-format and its re-export in layers), `networkLipschitzUpperBound`, `certifyExportedModel`, the
 * web page's `certifyExported` and the CLI's `certify --model` command — with the same code and the same
 * message, before any allocation; and the untouched file passes all of them.
 * What is not tested here: the built CLI binary (cli.test.ts checks one case end to end).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certifyExportedModel } from '@lipschitz/certify';
import { type ExportedModel, LipschitzError } from '@lipschitz/core';
import type { ImageSet } from '@lipschitz/datasets';
import { loadExportedModel as loadFromLayers } from '@lipschitz/layers';
import { loadExportedModel, networkLipschitzUpperBound, validateExportedModel } from '@lipschitz/model-format';
import { describeBackends } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { certifyExported } from '../web/app';
import { certifyModelFileCommand } from '../src/commands/certify';
import { type CraftedCase, craftedCases, seededFile } from './crafted-files';

const work = mkdtempSync(join(tmpdir(), 'robustness-hostile-'));
let base: ExportedModel;
let cases: CraftedCase[];

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The error a (sync or async) call throws, as `{ code, message }`. */
async function caught(call: () => unknown): Promise<{ code: string; message: string }> {
  try {
    await call();
  } catch (error) {
    if (!LipschitzError.isInstance(error)) return { code: 'not a LipschitzError', message: String(error) };
    return { code: error.code, message: error.message };
  }
  return { code: 'no error', message: '' };
}

const set: ImageSet = {
  images: new Float32Array(2 * 64).fill(0.5),
  labels: Int32Array.from([0, 1]),
  count: 2,
  height: 8,
  width: 8,
  channels: 1,
  numClasses: 10,
  name: 'flat',
};

describeBackends('hostile model files', () => {
  beforeAll(async () => {
    base = await seededFile();
    cases = craftedCases(base);
  });

  it('the untouched seeded file passes every reader', async () => {
    expect(validateExportedModel(base).outputShape).toEqual([10]);
    const runner = loadExportedModel(base);
    runner.dispose();
    const images = tf.fill([2, 8, 8, 1], 0.5);
    const labels = tf.tensor1d([0, 1], 'int32');
    const report = await certifyExportedModel(base, images, labels, { epsilons: [0.1] });
    const old = await certifyExportedModel(base, images, labels, { epsilons: [0.1], floatErrorModel: 'assume-relative-1e-5' });
    tf.dispose([images, labels]);
    // the default (float-sound) rule certifies with the exact network's bound, the old rule with the float32 slack inside L
    expect(report.floatErrorModel).toBe('rigorous');
    expect(report.lipschitzUpperBound).toBe(networkLipschitzUpperBound(base).lipschitzUpperBound);
    expect(old.lipschitzUpperBound).toBe(networkLipschitzUpperBound(base).assumedFloat32Bound);
    expect(report.lipschitzUpperBound).toBe(base.lipschitzUpperBound); // the file states the exact network's bound, the L certify reports
    expect((await certifyExported(base, set, 2)).count).toBe(2);
  });

  it('every crafted file is refused by every reader with the same code and message', async () => {
    const before = tf.memory().numTensors;
    for (const c of cases) {
      const path = join(work, `${c.name.replace(/\W+/g, '-')}.json`);
      writeFileSync(path, JSON.stringify(c.file));
      const images = tf.fill([2, 8, 8, 1], 0.5);
      const labels = tf.tensor1d([0, 1], 'int32');
      const readers: Record<string, () => unknown> = {
        validateExportedModel: () => validateExportedModel(c.file),
        'validateExportedModel (text)': () => validateExportedModel(JSON.stringify(c.file)),
        loadExportedModel: () => loadExportedModel(c.file),
        'layers loadExportedModel': () => loadFromLayers(JSON.stringify(c.file)),
        certifyExportedModel: () => certifyExportedModel(c.file, images, labels, { epsilons: [0.1] }),
        'web page certifyExported': () => certifyExported(c.file, set, 2),
        'CLI certify --model': () => certifyModelFileCommand({ model: path, backend: 'cpu', testLimit: 2, quiet: true }),
      };
      // networkLipschitzUpperBound sees only input.shape and layers: the range cases are the file-level validator's.
      if (!c.name.startsWith('input.range')) readers.networkLipschitzUpperBound = () => networkLipschitzUpperBound(c.file);
      const seen: string[] = [];
      for (const [reader, call] of Object.entries(readers)) {
        const { code, message } = await caught(call);
        expect(code, `${c.name} via ${reader}: ${message}`).toBe(c.code);
        expect(message, `${c.name} via ${reader}`).toMatch(c.message);
        seen.push(message);
      }
      expect(new Set(seen).size, `${c.name}: ${seen.join(' | ')}`).toBe(1);
      tf.dispose([images, labels]);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the size limits are documented defaults and can be raised', () => {
    const wide = structuredClone(base);
    wide.input.range = [0, 1e7];
    expect(() => validateExportedModel(wide)).toThrow(/maxInputMagnitude = 1000000/);
    expect(validateExportedModel(wide, { limits: { maxInputMagnitude: 1e8 } }).input.range).toEqual([0, 1e7]);
    expect(() => validateExportedModel(base, { limits: { maxActivationElements: 100 } })).toThrow(/^validateExportedModel: layer 0 \(conv2d\) outputs \[8, 8, 4\] = 256 values per example, more than maxActivationElements = 100/);
  });
});
