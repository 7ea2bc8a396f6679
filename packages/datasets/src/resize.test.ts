import { describe, expect, it } from 'vitest';
import type { ImageSet } from './image-set';
import { resizeImages } from './resize';

/**
 * Pillow 9.4 `Image.fromarray(a, mode='F').resize((w, h), Image.BILINEAR)` of the images built by
 * `pattern` below (float mode, so Pillow does not round between passes), rounded to 7 decimals.
 * Generated once with Debian's python3-pil; Pillow is the oracle, not this package.
 */
const PILLOW: Record<string, number[]> = {
  '6x9->4x4:0': [0.3838095, 0.5185797, 0.5975131, 0.5246779, 0.4580517, 0.5183272, 0.4893884, 0.4525117, 0.6054031, 0.4781976, 0.4989426, 0.524183, 0.5445939, 0.6062291, 0.5148255, 0.595154],
  '6x9->7x12:1': [0.0431373, 0.2906863, 0.5877451, 0.7593138, 0.3034314, 0.475, 0.3955882, 0.0651961, 0.3622549, 0.6593137, 0.579902, 0.2, 0.1571429, 0.4066177, 0.7059874, 0.879867, 0.4262955, 0.6001751, 0.5230743, 0.194993, 0.4943628, 0.7937325, 0.7166317, 0.3386555, 0.2815126, 0.5330883, 0.5929622, 0.4466737, 0.4796569, 0.7367297, 0.6621498, 0.3365896, 0.6384804, 0.5165266, 0.4296569, 0.4571429, 0.4058824, 0.6595588, 0.5875, 0.2644608, 0.5688726, 0.5595588, 0.4779412, 0.4526961, 0.7571079, 0.4181373, 0.3365196, 0.5901961, 0.5302521, 0.5619398, 0.492402, 0.3959734, 0.7029062, 0.3710084, 0.282353, 0.5239846, 0.5620098, 0.4093838, 0.467472, 0.7232493, 0.6546218, 0.285049, 0.2180322, 0.5261204, 0.827381, 0.4829832, 0.4009454, 0.5835434, 0.1318627, 0.2894258, 0.5797619, 0.8308123, 0.7686275, 0.4009804, 0.3362745, 0.6416667, 0.9151961, 0.5931373, 0.5284314, 0.7083334, 0.2289216, 0.4088235, 0.7014706, 0.9294118],
  '12x12->8x8:2': [0.2897672, 0.5267429, 0.4874728, 0.3668845, 0.4809913, 0.4301198, 0.4605665, 0.3489583, 0.4953704, 0.3914791, 0.6018398, 0.5557492, 0.494505, 0.4202857, 0.6138465, 0.5712963, 0.5815904, 0.4995885, 0.5637376, 0.462842, 0.5156621, 0.5506657, 0.3820867, 0.5582789, 0.5586057, 0.4349068, 0.3698862, 0.58412, 0.3709998, 0.6934398, 0.5418543, 0.3639434, 0.5611656, 0.6060518, 0.3948197, 0.603389, 0.5421448, 0.4748971, 0.5512467, 0.4515795, 0.3708606, 0.4512709, 0.5103849, 0.4114742, 0.4687001, 0.4227064, 0.5435972, 0.4351852, 0.5825709, 0.48061, 0.4130719, 0.368337, 0.5667393, 0.4785282, 0.5704188, 0.6461874, 0.5528799, 0.4841503, 0.5826797, 0.458061, 0.420207, 0.612963, 0.4056645, 0.4466299],
  '5x5->5x3:3': [0.2991597, 0.6984749, 0.540056, 0.4459384, 0.2936819, 0.6991597, 0.5927171, 0.4466231, 0.2845939, 0.7394958, 0.5995643, 0.4436975, 0.4560224, 0.5294118, 0.5736695],
};

function pattern(h: number, w: number, salt: number): Float32Array {
  const out = new Float32Array(h * w);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[y * w + x] = ((y * 37 + x * 101 + salt * 11 + ((y * x) % 13)) & 255) / 255;
  return out;
}

function grayscale(images: Float32Array, count: number, h: number, w: number): ImageSet {
  return { images, labels: new Int32Array(count), count, height: h, width: w, channels: 1, numClasses: 1, name: 'p' };
}

describe('resizeImages', () => {
  it("matches Pillow's antialiased bilinear resize when shrinking, enlarging and on one axis", () => {
    for (const [key, expected] of Object.entries(PILLOW)) {
      const [, h, w, oh, ow, salt] = /^(\d+)x(\d+)->(\d+)x(\d+):(\d+)$/.exec(key)!.map(Number);
      const out = resizeImages(grayscale(pattern(h, w, salt), 1, h, w), { height: oh, width: ow });
      expect([out.height, out.width, out.images.length]).toEqual([oh, ow, oh * ow]);
      for (let i = 0; i < expected.length; i++) expect(Math.abs(out.images[i] - expected[i]), `${key} at ${i}`).toBeLessThan(2e-6);
    }
  });

  it('treats channels and images independently, keeps constants and labels, and names the result', () => {
    const a = pattern(12, 12, 2);
    const b = pattern(12, 12, 5);
    const rgb = new Float32Array(2 * 144 * 3);
    for (let p = 0; p < 144; p++) {
      rgb[p * 3] = a[p];
      rgb[p * 3 + 1] = 0.25;
      rgb[144 * 3 + p * 3 + 2] = b[p];
    }
    const set: ImageSet = { images: rgb, labels: Int32Array.from([3, 1]), count: 2, height: 12, width: 12, channels: 3, numClasses: 4, name: 'rgb' };
    const out = resizeImages(set, { height: 8, width: 8 });
    const expected = PILLOW['12x12->8x8:2'];
    for (let p = 0; p < 64; p++) {
      expect(Math.abs(out.images[p * 3] - expected[p])).toBeLessThan(2e-6);
      expect(Math.abs(out.images[p * 3 + 1] - 0.25)).toBeLessThan(1e-7);
      expect(out.images[p * 3 + 2]).toBe(0);
    }
    const single = resizeImages(grayscale(b, 1, 12, 12), { height: 8, width: 8 });
    for (let p = 0; p < 64; p++) expect(out.images[64 * 3 + p * 3 + 2]).toBeCloseTo(single.images[p], 6);
    expect(Array.from(out.labels)).toEqual([3, 1]);
    expect(out.name).toBe('rgb@8x8');
    expect(set.images).toEqual(rgb);
  });

  it('is the identity at the same size', () => {
    const images = pattern(5, 7, 1);
    expect(resizeImages(grayscale(images, 1, 5, 7), { height: 5, width: 7 }).images).toEqual(images);
  });

  it('validates its arguments', () => {
    const set = grayscale(pattern(2, 2, 0), 1, 2, 2);
    expect(() => resizeImages(set, { height: 0, width: 2 })).toThrow(/^resizeImages: height must be a positive integer, got 0/);
    expect(() => resizeImages(set, undefined as never)).toThrow(/^resizeImages: size must be an object/);
    expect(() => resizeImages({ ...set, count: 3 }, { height: 1, width: 1 })).toThrow(/^resizeImages: set must be an ImageSet/);
  });
});
