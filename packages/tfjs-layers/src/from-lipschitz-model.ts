import { type ExportedModel, LipschitzError, MODEL_FORMAT, decodeTensor } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { circularPad } from './circular-pad';
import { groupSort } from './group-sort';
import { invertibleDownsample } from './invertible-downsample';
import { maxMin } from './max-min';

/**
 * Builds a plain `tf.sequential` model from a `lipschitz-model/1` object: circular convolutions as
 * {@link circularPad} + `tf.layers.conv2d` `'valid'`, zero-padded ones as `conv2d` `'same'`/`'valid'`,
 * dense as `tf.layers.dense`, plus `flatten`, `reLU` and this package's `MaxMin`, `GroupSort` and
 * `InvertibleDownsample` layers — explicit kernels, no orthogonalization: `predict` costs plain
 * convolutions. Its `lipschitz-model/1` conversion gives back the same layers.
 *
 * Ownership: the caller owns the model (`model.dispose()`).
 *
 * @throws LipschitzError `CORRUPT_DATA` when `exported` is not a `lipschitz-model/1` object or a layer is malformed.
 * @example
 * ```ts
 * const plain = fromLipschitzModel(JSON.parse(await readFile('model.json', 'utf8')));
 * ```
 */
export function fromLipschitzModel(exported: ExportedModel): tfl.Sequential {
  const caller = 'fromLipschitzModel';
  if (exported == null || exported.format !== MODEL_FORMAT || !Array.isArray(exported.layers) || !Array.isArray(exported.input?.shape)) {
    throw new LipschitzError('CORRUPT_DATA', `${caller}: expected a "${MODEL_FORMAT}" object with input.shape and layers, got format ${JSON.stringify(exported?.format)}.`);
  }
  const model = tfl.sequential();
  const pending: { layer: tfl.layers.Layer; weights: { shape: number[]; values: Float32Array }[] }[] = [];
  const add = (layer: tfl.layers.Layer, weights: { shape: number[]; values: Float32Array }[] = []) => {
    model.add(layer);
    if (weights.length > 0) pending.push({ layer, weights });
  };
  let first = true;
  const inputArgs = () => (first ? { inputShape: exported.input.shape } : {});
  for (const [index, layer] of exported.layers.entries()) {
    const where = `layer ${index}`;
    switch (layer?.type) {
      case 'conv2d': {
        const kernel = decodeTensor(layer.kernel, `${where} kernel`);
        const bias = layer.bias ? decodeTensor(layer.bias, `${where} bias`) : null;
        const [kh, kw, , cout] = kernel.shape;
        if (layer.padding === 'circular') add(circularPad({ kernelSize: [kh, kw], ...inputArgs() }));
        else if (layer.padding !== 'zero-same' && layer.padding !== 'valid') {
          throw new LipschitzError('CORRUPT_DATA', `${caller}: ${where} has padding ${JSON.stringify(layer.padding)}.`);
        }
        const circular = layer.padding === 'circular';
        add(
          tfl.layers.conv2d({
            filters: cout,
            kernelSize: [kh, kw],
            padding: layer.padding === 'zero-same' ? 'same' : 'valid',
            useBias: bias != null,
            ...(circular ? {} : inputArgs()),
          }),
          bias ? [kernel, bias] : [kernel],
        );
        break;
      }
      case 'dense': {
        const weight = decodeTensor(layer.weight, `${where} weight`);
        const bias = layer.bias ? decodeTensor(layer.bias, `${where} bias`) : null;
        add(tfl.layers.dense({ units: weight.shape[1], useBias: bias != null, ...inputArgs() }), bias ? [weight, bias] : [weight]);
        break;
      }
      case 'invertibleDownsample':
        add(invertibleDownsample({ factor: layer.factor, ...inputArgs() }));
        break;
      case 'flatten':
        add(tfl.layers.flatten(inputArgs()));
        break;
      case 'maxMin':
        add(maxMin(inputArgs()));
        break;
      case 'groupSort':
        add(groupSort({ groupSize: layer.groupSize, ...inputArgs() }));
        break;
      case 'relu':
        add(tfl.layers.reLU(inputArgs()));
        break;
      default:
        throw new LipschitzError('CORRUPT_DATA', `${caller}: ${where} has unknown type ${JSON.stringify((layer as { type?: unknown })?.type)}.`);
    }
    first = false;
  }
  for (const { layer, weights } of pending) {
    const tensors = weights.map((w) => tf.tensor(w.values, w.shape, 'float32'));
    layer.setWeights(tensors);
    for (const t of tensors) t.dispose();
  }
  return model;
}
