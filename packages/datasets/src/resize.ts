import { LipschitzError, assertPositiveInteger } from '@lipschitz/core';
import { type ImageSet, assertImageSet } from './image-set';

/** Target size of {@link resizeImages}. */
export interface ResizeOptions {
  height: number;
  width: number;
}

/**
 * Pillow's resampling weights for one axis (`ImagingResample`'s `precompute_coeffs` with the bilinear
 * "triangle" filter): output pixel `i` has centre `c = (i + 0.5)·s` with `s = in / out`, support
 * `max(s, 1)`, and weights `tri((j − c + 0.5) / max(s, 1))` over the inputs `j` it covers, normalized to
 * sum 1. When shrinking, the support widens with the scale (antialiasing).
 */
function triangleWeights(inSize: number, outSize: number): { start: Int32Array; count: Int32Array; weights: Float64Array; stride: number } {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale;
  const stride = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * stride);
  for (let i = 0; i < outSize; i++) {
    const centre = (i + 0.5) * scale;
    const lo = Math.max(Math.trunc(centre - support + 0.5), 0);
    const n = Math.min(Math.trunc(centre + support + 0.5), inSize) - lo;
    let total = 0;
    for (let k = 0; k < n; k++) {
      const t = Math.abs((k + lo - centre + 0.5) / filterScale);
      const w = t < 1 ? 1 - t : 0;
      weights[i * stride + k] = w;
      total += w;
    }
    if (total !== 0) for (let k = 0; k < n; k++) weights[i * stride + k] /= total;
    start[i] = lo;
    count[i] = n;
  }
  return { start, count, weights, stride };
}

/**
 * Resizes every image of `set` to `height × width` with antialiased bilinear interpolation — Pillow's
 * `Image.resize(size, BILINEAR)`, which is what torchvision's `Resize` does to PIL images (the reference
 * resizes STL-10 from 96×96 to 64×64 for its Wasserstein experiments). Separable: the width pass, then
 * the height pass, each with normalized triangle weights whose support
 * grows with the shrink factor. Computed in float64 and stored as float32; Pillow instead rounds to
 * 8 bits after each pass, so results agree with it to within about 1/255. A constant image stays
 * constant; values stay in [0, 1]. Returns a new set (name suffixed `@HxW`); `set` is not modified.
 * Browser-safe.
 *
 * Throws `INVALID_ARGUMENT` for a malformed set or non-positive sizes.
 *
 * @example
 * ```ts
 * const { train } = await stl10({ dir, testLimit: 0 });
 * const stl64 = resizeImages(train, { height: 64, width: 64 });
 * ```
 * @see Pillow, `src/libImaging/Resample.c`; reference-bcop §10 (STL-10 resized to 64×64).
 */
export function resizeImages(set: ImageSet, size: ResizeOptions): ImageSet {
  const fn = 'resizeImages';
  assertImageSet(fn, set);
  if (size == null || typeof size !== 'object') {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: size must be an object such as { height: 64, width: 64 }.`);
  }
  assertPositiveInteger(fn, 'height', size.height);
  assertPositiveInteger(fn, 'width', size.width);
  const { count, height: inH, width: inW, channels: c } = set;
  const { height: outH, width: outW } = size;
  const horizontal = triangleWeights(inW, outW);
  const vertical = triangleWeights(inH, outH);
  const images = new Float32Array(count * outH * outW * c);
  const rows = new Float64Array(inH * outW * c);
  for (let n = 0; n < count; n++) {
    const src = n * inH * inW * c;
    for (let y = 0; y < inH; y++) {
      for (let x = 0; x < outW; x++) {
        const lo = horizontal.start[x];
        const base = x * horizontal.stride;
        for (let k = 0; k < c; k++) {
          let acc = 0;
          for (let j = 0; j < horizontal.count[x]; j++) acc += horizontal.weights[base + j] * set.images[src + (y * inW + lo + j) * c + k];
          rows[(y * outW + x) * c + k] = acc;
        }
      }
    }
    const dst = n * outH * outW * c;
    for (let y = 0; y < outH; y++) {
      const lo = vertical.start[y];
      const base = y * vertical.stride;
      for (let x = 0; x < outW; x++) {
        for (let k = 0; k < c; k++) {
          let acc = 0;
          for (let j = 0; j < vertical.count[y]; j++) acc += vertical.weights[base + j] * rows[((lo + j) * outW + x) * c + k];
          images[dst + (y * outW + x) * c + k] = Math.min(1, Math.max(0, acc));
        }
      }
    }
  }
  return { ...set, images, height: outH, width: outW, labels: set.labels.slice(), name: `${set.name}@${outH}x${outW}` };
}
