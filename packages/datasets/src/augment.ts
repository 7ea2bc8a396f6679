import { type AugmentFn, LipschitzError, assertNonNegativeInteger } from '@lipschitz/core';

/** A host-side, seeded data augmentation (the type lives in `@lipschitz/core`, beside the batcher). */
export type { AugmentFn } from '@lipschitz/core';

/** Options of {@link randomCropFlip}. */
export interface RandomCropFlipOptions {
  /** Zero padding on every side before the crop (default 4, as the reference's `RandomCrop(32, padding=4)`). */
  padding?: number;
  /** Also flip horizontally with probability 1/2 (default true, `RandomHorizontalFlip()`). */
  flip?: boolean;
}

/**
 * The reference's CIFAR-10 training augmentation as an {@link AugmentFn}: per image, zero-pad by `padding`
 * on each side, crop back to `h × w` at an offset `(dy, dx)` drawn uniformly from `{0, …, 2·padding}²`
 * (torchvision `RandomCrop(size, padding)`), then flip left–right with probability 1/2
 * (`RandomHorizontalFlip()`). So `out[y, x] = in[y + dy − p, x' + dx − p]` with `x' = w − 1 − x` when
 * flipped (else `x`), and 0 outside the image. Draws, per image in batch order: `dy`, `dx`, then the flip
 * (`rng.int(2p + 1)`, `rng.int(2p + 1)`, `rng.uniform() < 0.5`).
 *
 * Throws `INVALID_ARGUMENT` for a negative or fractional padding.
 *
 * @example
 * ```ts
 * for (const b of batches(train, { batchSize: 128, shuffle: true, seed: 0, augment: randomCropFlip({ padding: 4 }) })) { ... }
 * ```
 * @see reference-bcop §8 (CIFAR-10: `RandomCrop(32, padding=4)` + `RandomHorizontalFlip()`); K. He et
 * al., "Deep Residual Learning for Image Recognition", CVPR 2016 (the augmentation's origin).
 */
export function randomCropFlip(options: RandomCropFlipOptions = {}): AugmentFn {
  const { padding = 4, flip = true } = options ?? {};
  assertNonNegativeInteger('randomCropFlip', 'padding', padding);
  if (typeof flip !== 'boolean') {
    throw new LipschitzError('INVALID_ARGUMENT', `randomCropFlip: flip must be a boolean, got ${String(flip)}.`);
  }
  return (batch, shape, rng) => {
    const [n, h, w, c] = shape;
    const pixels = h * w * c;
    const source = new Float32Array(pixels);
    for (let i = 0; i < n; i++) {
      const dy = rng.int(2 * padding + 1) - padding;
      const dx = rng.int(2 * padding + 1) - padding;
      const mirrored = flip && rng.uniform() < 0.5;
      const image = batch.subarray(i * pixels, (i + 1) * pixels);
      source.set(image);
      // Output columns x whose source column lies inside the image: [xFrom, xTo).
      const xFrom = Math.max(0, mirrored ? dx : -dx);
      const xTo = Math.min(w, mirrored ? w + dx : w - dx);
      for (let y = 0; y < h; y++) {
        const sy = y + dy;
        const row = y * w * c;
        if (sy < 0 || sy >= h || xFrom >= xTo) {
          image.fill(0, row, row + w * c);
          continue;
        }
        image.fill(0, row, row + xFrom * c);
        image.fill(0, row + xTo * c, row + w * c);
        const sourceRow = sy * w * c;
        if (!mirrored) {
          image.set(source.subarray(sourceRow + (xFrom + dx) * c, sourceRow + (xTo + dx) * c), row + xFrom * c);
        } else {
          for (let x = xFrom; x < xTo; x++) {
            const from = sourceRow + (w - 1 - x + dx) * c;
            const out = row + x * c;
            for (let k = 0; k < c; k++) image[out + k] = source[from + k];
          }
        }
      }
    }
  };
}

/** The reference's CIFAR-10 augmentation: `randomCropFlip({ padding: 4, flip: true })`. */
export const cifarAugment: AugmentFn = randomCropFlip({ padding: 4, flip: true });
