import { describe, expect, it } from 'vitest';
import { LipschitzError } from './errors';
import { decodeTensor, encodeTensor } from './model-format';

describe('encodeTensor / decodeTensor', () => {
  it('round-trips float32 values and uses little-endian bytes', () => {
    const values = [1, -2.5, 3.25, 0, 1e-8, 65504];
    const t = encodeTensor([2, 3], values);
    expect(t.dtype).toBe('float32');
    expect(t.shape).toEqual([2, 3]);
    // 1.0f = 0x3f800000 → little-endian bytes 00 00 80 3f
    const bytes = Uint8Array.from(atob(t.data), (ch) => ch.charCodeAt(0));
    expect(Array.from(bytes.subarray(0, 4))).toEqual([0x00, 0x00, 0x80, 0x3f]);
    const back = decodeTensor(t);
    expect(back.shape).toEqual([2, 3]);
    expect(Array.from(back.values)).toEqual(Array.from(Float32Array.from(values)));
  });

  it('round-trips large tensors (chunked base64)', () => {
    const values = Float32Array.from({ length: 100_000 }, (_, i) => Math.sin(i));
    expect(decodeTensor(encodeTensor([100_000], values)).values).toEqual(values);
  });

  it('rejects wrong sizes and corrupt payloads', () => {
    expect(() => encodeTensor([2, 2], [1, 2, 3])).toThrow(/^encodeTensor: shape \[2, 2\] needs 4 values, got 3\.$/);
    const good = encodeTensor([2], [1, 2]);
    const codes = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return LipschitzError.isInstance(e) ? e.code : 'other';
      }
      return 'none';
    };
    expect(codes(() => decodeTensor({ ...good, shape: [3] }, 'layers[0].kernel'))).toBe('CORRUPT_DATA');
    expect(() => decodeTensor({ ...good, shape: [3] }, 'layers[0].kernel')).toThrow(/layers\[0\]\.kernel has 8 bytes but shape \[3\] needs 12/);
    expect(() => decodeTensor({ ...good, dtype: 'int32' as 'float32' })).toThrow(/only float32/);
    expect(() => decodeTensor({ ...good, data: '###' })).toThrow(/not valid base64/);
    expect(() => decodeTensor({ ...good, shape: [-1] })).toThrow(/invalid shape/);
  });
});
