import { LipschitzError } from '@lipschitz/core';
import { decode as decodePng } from 'fast-png';
import jpeg from 'jpeg-js';

/** A decoded image: HWC float32 pixels in [0, 1]. */
export interface DecodedImage {
  pixels: Float32Array;
  height: number;
  width: number;
  channels: 1 | 3;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47];

/** True when `bytes` start like a PNG file. @internal */
export function isPng(bytes: Uint8Array): boolean {
  return PNG_SIGNATURE.every((b, i) => bytes[i] === b);
}

/** True when `bytes` start like a JPEG file (SOI marker). @internal */
export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length > 2 && bytes[0] === 0xff && bytes[1] === 0xd8;
}

/** RGB(A)/gray(A) samples of any depth → `channels` floats in [0, 1]; luma is ITU-R BT.601 (as PIL's "L"). */
function toUnit(samples: ArrayLike<number>, count: number, inChannels: number, max: number, channels: 1 | 3): Float32Array {
  const out = new Float32Array(count * channels);
  for (let p = 0; p < count; p++) {
    const base = p * inChannels;
    const gray = inChannels <= 2;
    const r = samples[base] / max;
    const g = gray ? r : samples[base + 1] / max;
    const b = gray ? r : samples[base + 2] / max;
    if (channels === 3) {
      out[p * 3] = r;
      out[p * 3 + 1] = g;
      out[p * 3 + 2] = b;
    } else {
      out[p] = gray ? r : 0.299 * r + 0.587 * g + 0.114 * b;
    }
  }
  return out;
}

/**
 * Decodes a JPEG (baseline or progressive, via `jpeg-js`) or PNG (any bit depth, palette, gray or RGB, via
 * `fast-png`) file into HWC float32 pixels in [0, 1] with `channels` channels: 3 = RGB (gray replicated), 1 = luma
 * `0.299·R + 0.587·G + 0.114·B` (ITU-R BT.601). Alpha is ignored. Pure JavaScript: runs in Node and browsers.
 *
 * @throws LipschitzError `CORRUPT_DATA` naming `source` when the bytes are neither format or do not decode.
 * @example
 * ```ts
 * const { pixels, height, width } = decodeImage(bytes, 3, 'cat/0001.jpg');
 * ```
 */
export function decodeImage(bytes: Uint8Array, channels: 1 | 3, source = 'the image'): DecodedImage {
  const fn = 'decodeImage';
  try {
    if (isJpeg(bytes)) {
      const image = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, tolerantDecoding: false });
      return { pixels: toUnit(image.data, image.width * image.height, 4, 255, channels), height: image.height, width: image.width, channels };
    }
    if (isPng(bytes)) {
      const image = decodePng(bytes);
      const max = image.depth === 16 ? 65535 : (2 ** image.depth) - 1;
      const count = image.width * image.height;
      if (image.palette) {
        const rgb = new Uint8Array(count * 3);
        for (let p = 0; p < count; p++) {
          const entry = image.palette[image.data[p]];
          rgb[p * 3] = entry[0];
          rgb[p * 3 + 1] = entry[1];
          rgb[p * 3 + 2] = entry[2];
        }
        return { pixels: toUnit(rgb, count, 3, 255, channels), height: image.height, width: image.width, channels };
      }
      return { pixels: toUnit(image.data, count, image.channels, max, channels), height: image.height, width: image.width, channels };
    }
  } catch (cause) {
    throw new LipschitzError('CORRUPT_DATA', `${fn}: ${source} does not decode (${(cause as Error).message}); the file is damaged.`, { cause });
  }
  throw new LipschitzError('CORRUPT_DATA', `${fn}: ${source} is neither a JPEG nor a PNG file. Convert it, or remove it from the folder.`);
}
