import { LipschitzError } from '@lipschitz/core';
import { BcopConv2d, BjorckDense, RkoConv2d, bcopConv2d, bjorckDense, rkoConv2d } from '@lipschitz/layers';
import type { OrthogonalizerSpec } from '@lipschitz/orthogonalize';

/** The orthogonalization options a BCOP, RKO or Björck dense layer takes (as `@lipschitz/layers`). */
export interface OrthogonalizationOptions {
  /** How the weights are orthogonalized (default: what `@lipschitz/layers` uses for the same options). */
  orthogonalizer?: OrthogonalizerSpec;
  /** Re-project the weights after every optimizer step (default: as `@lipschitz/layers`). */
  reproject?: boolean;
}

/** The orthogonalizer and re-projection flag a layer resolves to. */
export interface ResolvedOrthogonalization {
  orthogonalizer: OrthogonalizerSpec;
  reproject: boolean;
}

type Kind = 'bcopConv2d' | 'rkoConv2d' | 'bjorckDense';

/**
 * What `@lipschitz/layers` uses for a layer of `kind` with this seed and these options: the
 * orthogonalizer spec and whether `afterStep` re-projects. Read from a 1×1 layer of that package built
 * with the same options (then disposed), so that these layers always follow its defaults and compute
 * the same kernels from the same weights. The resolved values go into the layer's config, so a saved
 * model keeps its scheme even if the default changes later.
 *
 * @throws LipschitzError `INVALID_ARGUMENT` for a bad `orthogonalizer`, `reproject` or `iterations`
 *   (from `@lipschitz/layers`, with `fn`'s name).
 */
export function resolveOrthogonalization(
  fn: string,
  kind: Kind,
  seed: number,
  options: OrthogonalizationOptions & { iterations?: number },
): ResolvedOrthogonalization {
  if (options.orthogonalizer !== undefined && (options.orthogonalizer === null || typeof options.orthogonalizer !== 'object')) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: orthogonalizer must be an OrthogonalizerSpec object from @lipschitz/orthogonalize.`);
  }
  if (options.reproject !== undefined && typeof options.reproject !== 'boolean') {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: reproject must be a boolean, got ${String(options.reproject)}.`);
  }
  const shared = {
    seed,
    ...(options.orthogonalizer ? { orthogonalizer: options.orthogonalizer } : {}),
    ...(options.reproject !== undefined ? { reproject: options.reproject } : {}),
  };
  const probe =
    kind === 'bjorckDense'
      ? bjorckDense({ inputs: 1, outputs: 1, ...shared })
      : kind === 'rkoConv2d'
        ? rkoConv2d({ inChannels: 1, outChannels: 1, kernelSize: 1, ...shared })
        : bcopConv2d({ inChannels: 1, outChannels: 1, kernelSize: 1, ...shared, ...(options.iterations !== undefined ? { iterations: options.iterations } : {}) });
  try {
    if (!(probe instanceof BcopConv2d || probe instanceof RkoConv2d || probe instanceof BjorckDense)) {
      throw new LipschitzError('UNSUPPORTED_CONFIGURATION', `${fn}: @lipschitz/layers returned an unexpected ${kind} module; reinstall matching versions of @lipschitz/layers and @lipschitz/tfjs-layers.`);
    }
    return { orthogonalizer: JSON.parse(JSON.stringify(probe.orthogonalizer)) as OrthogonalizerSpec, reproject: probe.reproject };
  } finally {
    probe.dispose();
  }
}
