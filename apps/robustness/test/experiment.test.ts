import type { BcopConv2d, BjorckDense } from '@lipschitz/layers';
import type { StridedConv } from '@lipschitz/layers/authoring';
import { FAST_POLAR } from '@lipschitz/orthogonalize';
import { describeBackends } from '@lipschitz/test-utils';
import { expect, it } from 'vitest';
import { type ExperimentConfig, ORTHOGONALIZERS, PRESETS, buildModel } from '../src/experiment';

describeBackends('buildModel --orthogonalizer', () => {
  const config = (orthogonalizer?: ExperimentConfig['orthogonalizer']): ExperimentConfig => ({ ...PRESETS.quick, seed: 0, ...(orthogonalizer ? { orthogonalizer } : {}) });

  it('wires reference, fast-polar and reprojected to the layers’ options', () => {
    expect(ORTHOGONALIZERS).toEqual(['reference', 'fast-polar', 'reprojected']);
    for (const [name, reproject, kind] of [
      [undefined, false, 'bjorck-gram'],
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
  });
});
