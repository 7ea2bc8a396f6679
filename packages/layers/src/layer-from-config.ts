import { LipschitzError } from '@lipschitz/core';
import { bcopConv2d } from './bcop-conv2d';
import { bjorckDense } from './bjorck-dense';
import { cayleyConv2d } from './cayley-conv2d';
import { flatten } from './flatten';
import { groupSort } from './group-sort';
import { invertibleDownsample } from './invertible-downsample';
import type { LayerConfig, LayerModule } from './layer-base';
import { maxMin } from './max-min';
import { ossnConv2d } from './ossn-conv2d';
import { plainConv2d } from './plain-conv2d';
import { plainDense } from './plain-dense';
import { relu } from './relu';
import { rkoConv2d } from './rko-conv2d';
import { sequential } from './sequential';
import { svcmConv2d } from './svcm-conv2d';
import { upsampleNearest } from './upsample-nearest';

// biome-ignore lint/suspicious/noExplicitAny: each factory validates its own options.
type Factory = (options: any) => LayerModule;

const FACTORIES: Record<string, Factory> = {
  bcopConv2d,
  rkoConv2d,
  ossnConv2d,
  svcmConv2d,
  cayleyConv2d,
  plainConv2d,
  bjorckDense,
  plainDense,
  maxMin: () => maxMin(),
  relu: () => relu(),
  flatten: () => flatten(),
  groupSort,
  invertibleDownsample,
  upsampleNearest,
};

/**
 * Rebuilds a module (same architecture, fresh initial variables) from its `config`
 * (`{ type, options }`, see `LayerModule.config`); a `sequential` config rebuilds its children.
 *
 * Ownership: the caller owns the returned module. Throws `CORRUPT_DATA` for an unknown type or a
 * malformed config, and the factory's own `INVALID_ARGUMENT` for bad options.
 *
 * @example
 * ```ts
 * const copy = layerFromConfig(model.config); // then copy the variables (loadModel does this)
 * ```
 */
export function layerFromConfig(config: LayerConfig): LayerModule {
  if (config == null || typeof config !== 'object' || typeof config.type !== 'string' || config.options == null || typeof config.options !== 'object') {
    throw new LipschitzError('CORRUPT_DATA', 'layerFromConfig: a layer config must be { type: string, options: object }.');
  }
  if (config.type === 'sequential') {
    const children = config.options.layers;
    if (!Array.isArray(children)) throw new LipschitzError('CORRUPT_DATA', 'layerFromConfig: a sequential config needs options.layers (an array).');
    const built: LayerModule[] = [];
    try {
      for (const child of children) built.push(layerFromConfig(child as LayerConfig));
    } catch (error) {
      for (const m of built) m.dispose();
      throw error;
    }
    const name = typeof config.options.name === 'string' ? config.options.name : undefined;
    return sequential(built, { name });
  }
  const factory = Object.hasOwn(FACTORIES, config.type) ? FACTORIES[config.type] : undefined;
  if (!factory) {
    throw new LipschitzError('CORRUPT_DATA', `layerFromConfig: unknown layer type '${config.type}'. Known types: ${Object.keys(FACTORIES).join(', ')}, sequential.`);
  }
  return factory(upgradeOptions(config.type, config.options));
}

/** The layers whose default orthogonalization changed in issue 14 (`'unrolled'` Björck-20 → `'projected'`). */
const ORTHOGONALIZED = new Set(['bcopConv2d', 'rkoConv2d', 'bjorckDense']);

/**
 * A config saved before issue 14 has no `orthogonalization`: it was built with the old default
 * (`'unrolled'`, Björck-20 in the Gram form, unless `reproject: true`), so it is rebuilt with that, not
 * with today's default; its saved weights then define the same function.
 */
function upgradeOptions(type: string, options: Record<string, unknown>): Record<string, unknown> {
  if (!ORTHOGONALIZED.has(type) || options.orthogonalization !== undefined) return options;
  return { ...options, orthogonalization: options.reproject === true ? 'reprojected' : 'unrolled' };
}
