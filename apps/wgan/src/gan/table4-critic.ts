import { LipschitzError, assertPositiveInteger } from '@lipschitz/core';
import {
  type ActivationType,
  type ConvType,
  type LayerModule,
  type Sequential,
  bcopConv2d,
  bjorckDense,
  cayleyConv2d,
  flatten,
  maxMin,
  ossnConv2d,
  relu,
  rkoConv2d,
  sequential,
} from '@lipschitz/layers';

/** Conv types compared in Table 4 (plus Cayley, which the paper does not have). */
export const TABLE4_CONVS = ['bcop', 'rko', 'ossn', 'cayley'] as const satisfies readonly ConvType[];
export type Table4Conv = (typeof TABLE4_CONVS)[number];

/** The Table-4 activations. */
export const TABLE4_ACTIVATIONS = ['maxmin', 'relu'] as const;

/** Options of {@link table4Critic}. */
export interface Table4CriticOptions {
  conv: Table4Conv;
  activation: ActivationType;
  /** Channels of the first conv; the next ones double (reference: 64 → 128 → 256 → 512). */
  width: number;
  /** Square input size (default 32: MNIST zero-padded from 28). Must be a multiple of 16. */
  size?: number;
  seed?: number;
}

/**
 * The reference's DCGAN critic (reference-bcop.md §6, `DCGANDiscriminator`) adapted to 32×32×1 MNIST:
 * **no nearest upsampling to 64×64** (that would multiply the Lipschitz bound by 2 and the cost by 4), then
 * the same four `conv 4×4 s2` layers (invertible downsampling + a 2×2 orthogonal conv, as the reference)
 * with channels `w → 2w → 4w → 8w` (reference w = 64) and the activation after each, flatten, Björck dense → 1.
 * At 32×32 the maps are 16, 8, 4, 2 pixels wide.
 *
 * Guarantee: 1-Lipschitz (BCOP/RKO/Cayley orthogonal convs, OSSN normalised, Björck dense, MaxMin/ReLU);
 * the sound bound is `critic.lipschitzUpperBound([size, size, 1])`.
 *
 * Ownership: the caller owns the critic (`dispose()`). Throws `INVALID_ARGUMENT` on a bad width or size.
 *
 * @example
 * ```ts
 * const critic = table4Critic({ conv: 'bcop', activation: 'maxmin', width: 16 });
 * ```
 * @see Li et al., NeurIPS 2019, §5.3 and Table 4; Radford et al. 2016 (DCGAN).
 */
export function table4Critic({ conv, activation, width, size = 32, seed = 0 }: Table4CriticOptions): Sequential {
  const fn = 'table4Critic';
  assertPositiveInteger(fn, 'width', width);
  assertPositiveInteger(fn, 'size', size);
  if (size % 16 !== 0) throw new LipschitzError('INVALID_ARGUMENT', `${fn}: size must be a multiple of 16 (four stride-2 convs), got ${size}.`);
  if (!(TABLE4_CONVS as readonly string[]).includes(conv)) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: conv must be one of ${TABLE4_CONVS.join(', ')}, got ${JSON.stringify(conv)}.`);
  }
  const factory = { bcop: bcopConv2d, rko: rkoConv2d, ossn: ossnConv2d, cayley: cayleyConv2d }[conv];
  const layers: LayerModule[] = [];
  try {
    const channels = [1, width, 2 * width, 4 * width, 8 * width];
    let s = size;
    for (let i = 0; i < 4; i++) {
      layers.push(factory({ inChannels: channels[i], outChannels: channels[i + 1], kernelSize: 4, stride: 2, seed: seed + 1000 * i, inputSize: [s, s] }));
      layers.push(activation === 'relu' ? relu() : maxMin());
      s /= 2;
    }
    layers.push(flatten());
    layers.push(bjorckDense({ inputs: s * s * channels[4], outputs: 1, seed: seed + 4000 }));
  } catch (error) {
    for (const l of layers) l.dispose();
    throw error;
  }
  return sequential(layers, { name: `table4Critic(${conv}, ${activation}, w=${width})` });
}
