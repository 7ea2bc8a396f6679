import { circularPad as circularPadOp } from '@lipschitz/blockconv';
import { LipschitzError, assertPositiveInteger } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { type BaseLayerArgs, singleInput, singleShape } from './lipschitz-layer';
import { registerLayerOnce } from './register-layer';

/** Options of {@link circularPad}. */
export interface CircularPadArgs extends BaseLayerArgs {
  /** The kernel size `k` or `[kh, kw]` of the `'valid'` convolution that follows. */
  kernelSize: number | [number, number];
}

/** Circular padding as a tfjs layer (see {@link circularPad}). */
export class CircularPad extends tfl.layers.Layer {
  static className = 'CircularPad';
  readonly kernelSize: [number, number];

  constructor(args: CircularPadArgs) {
    super(args);
    const k = args?.kernelSize;
    const pair: [number, number] = Array.isArray(k) ? [k[0], k[1]] : [k as number, k as number];
    if (Array.isArray(k) && k.length !== 2) throw new LipschitzError('INVALID_ARGUMENT', `circularPad: kernelSize must be k or [kh, kw], got [${k.join(', ')}].`);
    assertPositiveInteger('circularPad', 'kernelSize', pair[0]);
    assertPositiveInteger('circularPad', 'kernelSize', pair[1]);
    this.kernelSize = pair;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => circularPadOp(singleInput(inputs) as tf.Tensor4D, this.kernelSize));
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const shape = singleShape('circularPad.computeOutputShape', inputShape);
    if (shape.length !== 4) throw new LipschitzError('SHAPE_MISMATCH', `circularPad: expected NHWC input, got [${shape.join(', ')}].`);
    const [kh, kw] = this.kernelSize;
    return [shape[0], shape[1] == null ? null : shape[1] + kh - 1, shape[2] == null ? null : shape[2] + kw - 1, shape[3]];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), kernelSize: [...this.kernelSize] };
  }
}
registerLayerOnce(CircularPad);

/**
 * Circular (periodic) padding as a `tf.layers.Layer`, the padding of the reference's convolutions:
 * `⌊k/2⌋` rows/columns wrapped at the top/left and `k − 1 − ⌊k/2⌋` at the bottom/right, so that
 * `circularPad({ kernelSize: k })` followed by `tf.layers.conv2d({ kernelSize: k, padding: 'valid' })` is
 * the circular convolution of `@lipschitz/blockconv`'s `circularConv2d`. The plain export
 * ({@link toPlainModel}) uses it; tfjs has no circular padding of its own.
 *
 * `padded[b, y, x, c] = x[b, (y − ⌊kh/2⌋) mod h, (x − ⌊kw/2⌋) mod w, c]` (a copy of some entries, not a
 * contraction in general: its norm is not counted alone — the bound sees pad + conv as one circular conv).
 *
 * @throws LipschitzError `INVALID_ARGUMENT` for a bad `kernelSize`.
 * @example
 * ```ts
 * model.add(circularPad({ kernelSize: 3 }));
 * model.add(tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'valid' }));
 * ```
 */
export function circularPad(args: CircularPadArgs): CircularPad {
  return new CircularPad(args);
}
