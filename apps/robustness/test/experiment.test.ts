import type { ImageSet } from '@lipschitz/datasets';
import type { BcopConv2d, BjorckDense } from '@lipschitz/layers';
import type { StridedConv } from '@lipschitz/layers/authoring';
import { FAST_POLAR, REFERENCE_BJORCK, REFERENCE_BJORCK_GRAM } from '@lipschitz/orthogonalize';
import { describeBackends } from '@lipschitz/test-utils';
import { REFERENCE_LR_GAMMA } from '@lipschitz/train';
import { describe, expect, it } from 'vitest';
import {
  type ExperimentConfig,
  ORTHOGONALIZERS,
  PRESETS,
  assertResumableAugment,
  buildModel,
  defaultAugment,
  scheduleLabel,
  settleRetractionSteps,
  scheduleOf,
  scheduleProtocolChange,
  settleSchedule,
  trainingBatcher,
} from '../src/experiment';

describeBackends('buildModel --orthogonalizer', () => {
  const config = (orthogonalizer?: ExperimentConfig['orthogonalizer']): ExperimentConfig => ({ ...PRESETS.quick, seed: 0, ...(orthogonalizer ? { orthogonalizer } : {}) });

  it('wires projected, reference, reference-gram, fast-polar and reprojected to the layers’ options; a config without one (saved before issue 14) gets reference-gram', () => {
    expect(ORTHOGONALIZERS).toEqual(['projected', 'reference', 'reference-gram', 'fast-polar', 'reprojected']);
    for (const [name, reproject, kind] of [
      [undefined, false, 'bjorck-gram'],
      ['reference-gram', false, 'bjorck-gram'],
      ['fast-polar', false, FAST_POLAR.kind],
      ['reprojected', true, 'bjorck'],
    ] as const) {
      const model = buildModel(config(name));
      const conv = (model.layers[0] as StridedConv).inner as BcopConv2d;
      const dense = model.layers[5] as BjorckDense;
      expect([conv.reproject, dense.reproject], String(name)).toEqual([reproject, reproject]);
      expect([conv.orthogonalizer.kind, dense.orthogonalizer.kind], String(name)).toEqual([kind, kind]);
      model.dispose();
    }
    for (const [name, orthogonalization, orthogonalizer] of [
      ['projected', 'projected', REFERENCE_BJORCK_GRAM],
      ['reference', 'unrolled', REFERENCE_BJORCK],
      [undefined, 'unrolled', undefined],
    ] as const) {
      const model = buildModel(config(name));
      const conv = (model.layers[0] as StridedConv).inner as BcopConv2d;
      const dense = model.layers[5] as BjorckDense;
      expect([conv.orthogonalization, dense.orthogonalization], String(name)).toEqual([orthogonalization, orthogonalization]);
      // projected: the freeze-time projection (Björck-20, Gram form, with the layer's power-iteration seed)
      if (orthogonalizer) {
        const { seed: _seed, ...spec } = orthogonalizer as Record<string, unknown>;
        expect([conv.orthogonalizer, dense.orthogonalizer], String(name)).toMatchObject([spec, spec]);
      }
      model.dispose();
    }
  });
});

describeBackends(
  'training batches of a run (--augment)',
  () => {
    // 8×8×3 images whose pixels are all distinct (value = index / count), so a crop or a flip is visible.
    const count = 4;
    const pixels = 8 * 8 * 3;
    const set: ImageSet = {
      images: Float32Array.from({ length: count * pixels }, (_, i) => (i + 1) / (count * pixels)),
      labels: Int32Array.from({ length: count }, (_, i) => i % 2),
      count,
      height: 8,
      width: 8,
      channels: 3,
      numClasses: 2,
      name: 'distinct',
    };
    const firstBatch = async (augment: ExperimentConfig['augment']) => {
      const [batch] = [...trainingBatcher({ augment })(set, { batchSize: count, shuffle: true, seed: 7 })];
      const values = { x: Array.from(await batch.x.data()), y: Array.from(await batch.y.data()) };
      batch.x.dispose();
      batch.y.dispose();
      return values;
    };

    it('cifar10 runs augment by default (crop with zero padding + flip), as the reference; MNIST runs do not', async () => {
      expect(defaultAugment('cifar10')).toBe('cifar');
      expect(defaultAugment('mnist')).toBe('none');
      expect(defaultAugment('fashion-mnist')).toBe('none');
      const plain = await firstBatch('none');
      const augmented = await firstBatch('cifar');
      const again = await firstBatch('cifar');
      // The same examples in the same order (the shuffle is unchanged), with edited pixels, reproducibly.
      expect(augmented.y).toEqual(plain.y);
      expect(augmented.x).not.toEqual(plain.x);
      expect(augmented.x).toEqual(again.x);
      // A crop of a zero-padded image: some pixels become exactly 0, none is new.
      const original = new Set(Array.from(set.images));
      expect(augmented.x.some((v) => v === 0)).toBe(true);
      expect(augmented.x.every((v) => v === 0 || original.has(v))).toBe(true);
      // Without augmentation, the batch is the shuffled examples themselves.
      expect(plain.x.every((v) => original.has(v))).toBe(true);
      // A run from before the flag (no augment in its config) trains unaugmented.
      expect(await firstBatch(undefined)).toEqual(plain);
    });

    it('a run is resumed only with the augmentation it was trained with (a run from before the flag: none)', () => {
      expect(() => assertResumableAugment({ augment: 'cifar' }, { augment: 'cifar' })).not.toThrow();
      expect(() => assertResumableAugment({}, { augment: 'none' })).not.toThrow();
      expect(() => assertResumableAugment(undefined, { augment: 'cifar' })).toThrow(
        /^--resume: the run was trained with --augment none; pass --augment none to continue it exactly \(or --force to start over with cifar\)\.$/,
      );
      expect(() => assertResumableAugment({ augment: 'cifar' }, { augment: 'none' })).toThrow(/trained with --augment cifar/);
    });
  },
  ['cpu'],
);

describe('--schedule', () => {
  const config = (extra: Partial<ExperimentConfig> = {}): ExperimentConfig => ({ ...PRESETS.quick, seed: 0, epochs: 20, ...extra });

  it('exponential is the paper’s lr₀·γ^e; compressed reaches the paper’s 200-epoch end rate at epoch N (scheduleEpochs)', () => {
    const paper = scheduleOf(config({ schedule: 'exponential', lr: 2e-3 }));
    expect(paper(1)).toBeCloseTo(2e-3 * REFERENCE_LR_GAMMA, 15);
    expect(scheduleOf(config())(7)).toBe(1e-3 * REFERENCE_LR_GAMMA ** 7);
    const compressed = scheduleOf(config({ schedule: 'compressed', scheduleEpochs: 20 }));
    expect(compressed(0)).toBe(1e-3);
    expect(compressed(20) / (1e-3 * REFERENCE_LR_GAMMA ** 200)).toBeCloseTo(1, 12);
    expect(compressed(10) / (1e-3 * REFERENCE_LR_GAMMA ** 100)).toBeCloseTo(1, 12);
    // a run resumed to 30 epochs keeps compressing into its 20: the same rate per epoch, continued
    const extended = scheduleOf(config({ schedule: 'compressed', scheduleEpochs: 20, epochs: 30 }));
    expect(extended(20)).toBe(compressed(20));
    expect(extended(30) / (1e-3 * REFERENCE_LR_GAMMA ** 300)).toBeCloseTo(1, 12);
  });

  it('cosine anneals over N = scheduleEpochs from lr₀ to the paper’s end rate and holds it when resumed past N', () => {
    const end = 2e-3 * Math.exp(200 * Math.log(0.96235062639));
    const cosine = scheduleOf(config({ schedule: 'cosine', scheduleEpochs: 20, lr: 2e-3 }));
    expect(cosine(0)).toBe(2e-3);
    expect(cosine(10)).toBeCloseTo((2e-3 + end) / 2, 15);
    expect(cosine(20)).toBeCloseTo(end, 18);
    const extended = scheduleOf(config({ schedule: 'cosine', scheduleEpochs: 20, epochs: 30, lr: 2e-3 }));
    expect(extended(10)).toBe(cosine(10));
    expect(extended(30)).toBe(cosine(20));
    const fresh = config({ schedule: 'cosine' });
    settleSchedule(fresh, undefined);
    expect(fresh).toMatchObject({ schedule: 'cosine', scheduleEpochs: 20 });
    const resumed = config({ epochs: 30 });
    settleSchedule(resumed, { schedule: 'cosine', scheduleEpochs: 20 });
    expect(resumed).toMatchObject({ schedule: 'cosine', scheduleEpochs: 20, epochs: 30 });
    expect(() => settleSchedule(config({ schedule: 'compressed' }), { schedule: 'cosine', scheduleEpochs: 20 })).toThrow(/trained with --schedule cosine/);
  });

  it('settleRetractionSteps: a resumed run keeps its count; the same count passed again is accepted, another refused', () => {
    const legacy = config({ retractionSteps: 2 });
    settleRetractionSteps(legacy, {}, true); // a run without the field used the default, 2
    expect(legacy.retractionSteps).toBeUndefined();
    const kept = config();
    settleRetractionSteps(kept, { retractionSteps: 1 }, false);
    expect(kept.retractionSteps).toBe(1);
    expect(() => settleRetractionSteps(config({ retractionSteps: 1 }), {}, true)).toThrow(
      /^--resume: the run was trained with --retraction-steps 2; leave --retraction-steps out to continue it exactly, or pass --force to start over with 1\.$/,
    );
  });

  it('scheduleLabel names the protocol change next to the numbers', () => {
    expect(scheduleLabel(config())).toBe('exponential');
    expect(scheduleLabel(config({ schedule: 'compressed' }))).toBe('compressed 200→20');
    expect(scheduleLabel(config({ schedule: 'cosine', scheduleEpochs: 100, epochs: 120 }))).toBe('cosine over 100');
    expect(scheduleProtocolChange(config())).toBeNull();
    expect(scheduleProtocolChange(config({ schedule: 'compressed', scheduleEpochs: 40 }))).toBe("the paper's 200-epoch lr decay compressed into 40");
    expect(scheduleProtocolChange(config({ schedule: 'cosine', scheduleEpochs: 100 }))).toBe("a cosine lr schedule over 100 epochs instead of the paper's decay");
  });

  it('a new run stores its schedule (default exponential); a resumed run keeps its own and refuses another', () => {
    const fresh = config();
    settleSchedule(fresh, undefined);
    expect(fresh).toMatchObject({ schedule: 'exponential' });
    expect(fresh.scheduleEpochs).toBeUndefined();
    const compressed = config({ schedule: 'compressed' });
    settleSchedule(compressed, undefined);
    expect(compressed).toMatchObject({ schedule: 'compressed', scheduleEpochs: 20 });
    const resumed = config({ epochs: 30 });
    settleSchedule(resumed, { schedule: 'compressed', scheduleEpochs: 20 });
    expect(resumed).toMatchObject({ schedule: 'compressed', scheduleEpochs: 20, epochs: 30 });
    // a run saved before the flag trained with the paper's schedule
    const legacy = config();
    settleSchedule(legacy, {});
    expect(legacy.schedule).toBe('exponential');
    expect(() => settleSchedule(config({ schedule: 'compressed' }), {})).toThrow(
      /^--resume: the run was trained with --schedule exponential; pass --schedule exponential \(or leave --schedule out\) to continue it exactly, or --force to start over with compressed\.$/,
    );
    expect(() => settleSchedule(config({ schedule: 'exponential' }), { schedule: 'compressed', scheduleEpochs: 5 })).toThrow(/trained with --schedule compressed/);
  });
});
