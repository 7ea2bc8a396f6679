import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LipschitzError } from '@lipschitz/core';
import { describe, expect, it } from 'vitest';
import { parseNpy, serializeNpy } from './npy';
import { npyToPointCloud, readNpy, writeNpy } from './npy-file';

// A file written by numpy 1.26: np.save(f, np.array([[1, 2], [3, 4.5]], dtype='<f4'))
const NUMPY_HEADER = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }";

function numpyStyle(header: string, payload: Uint8Array, major = 1): Uint8Array {
  const padded = header + ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const h = new TextEncoder().encode(padded);
  const prefix = major === 1 ? 10 : 12;
  const out = new Uint8Array(prefix + h.length + payload.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  if (major === 1) new DataView(out.buffer).setUint16(8, h.length, true);
  else new DataView(out.buffer).setUint32(8, h.length, true);
  out.set(h, prefix);
  out.set(payload, prefix + h.length);
  return out;
}

describe('.npy', () => {
  it('parses a numpy-layout file (v1 and v2) and round-trips float32 and float64', () => {
    const payload = new Uint8Array(Float32Array.from([1, 2, 3, 4.5]).buffer);
    for (const major of [1, 2]) {
      const parsed = parseNpy(numpyStyle(NUMPY_HEADER, payload, major));
      expect(parsed.shape).toEqual([2, 2]);
      expect(parsed.dtype).toBe('float32');
      expect(Array.from(parsed.values)).toEqual([1, 2, 3, 4.5]);
    }
    const f64 = Float64Array.from([Math.PI, -1e-300, 7]);
    const back = parseNpy(serializeNpy(f64, [3]));
    expect(back.dtype).toBe('float64');
    expect(back.shape).toEqual([3]);
    expect(Array.from(back.values)).toEqual(Array.from(f64));
    const bytes = serializeNpy(new Float32Array(6), [2, 3]);
    expect((bytes.length - 0) % 64).toBe(24); // header block is a multiple of 64 bytes
  });

  it('rejects malformed files with specific errors', () => {
    const payload = new Uint8Array(Float32Array.from([1, 2, 3, 4]).buffer);
    const cases: [Uint8Array, RegExp][] = [
      [new Uint8Array([1, 2, 3]), /bad magic string/],
      [numpyStyle(NUMPY_HEADER, payload.subarray(0, 12)), /data has 12 bytes but shape \(2, 2\) of <f4 needs 16/],
      [numpyStyle(NUMPY_HEADER.replace('<f4', '<i8'), payload), /dtype <i8 is not supported/],
      [numpyStyle(NUMPY_HEADER.replace('<f4', '>f4'), payload), /dtype >f4 is not supported/],
      [numpyStyle(NUMPY_HEADER.replace('False', 'True'), payload), /Fortran-ordered/],
      [numpyStyle("{'descr': '<f4'}", payload), /malformed header/],
    ];
    for (const [bytes, message] of cases) {
      let error: unknown;
      try {
        parseNpy(bytes, 'x.npy');
      } catch (e) {
        error = e;
      }
      expect(LipschitzError.isInstance(error) && error.code).toBe('CORRUPT_DATA');
      expect((error as Error).message).toMatch(/^parseNpy: x\.npy: /);
      expect((error as Error).message).toMatch(message);
    }
  });

  it('reads and writes files atomically, and checks point-cloud shapes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'npy-'));
    const file = join(dir, 'a.npy');
    await writeNpy(file, Float32Array.from([1, 2, 3, 4, 5, 6]), [3, 2]);
    const cloud = npyToPointCloud(await readNpy(file));
    expect([cloud.count, cloud.dim]).toEqual([3, 2]);
    await expect(readNpy(join(dir, 'missing.npy'))).rejects.toThrow(/^readNpy: cannot read .*missing\.npy \(ENOENT\)/);
    writeFileSync(join(dir, 'bad.npy'), 'hello');
    await expect(readNpy(join(dir, 'bad.npy'))).rejects.toThrow(/bad\.npy: not a \.npy file/);
    expect(() => npyToPointCloud({ shape: [4], dtype: 'float32', values: new Float32Array(4) }, 'a.npy')).toThrow(
      /a\.npy must be a 2-D array of shape \(points, dimensions\), got shape \(4\)/,
    );
  });
});

describe('.npy files written by NumPy', () => {
  // test/fixtures/*.npy were written by numpy.save (NumPy 2.4): np.array([[1, 2], [3, 4.5], [-1e-3, 65504]], '<f4')
  // and np.array([np.pi, -1e-300, 7, 0.1], '<f8').
  const fixture = (name: string) => join(import.meta.dirname, '..', 'test', 'fixtures', name);

  it('reads float32 and float64 arrays from disk (Node Buffers are pooled views)', async () => {
    const f4 = await readNpy(fixture('numpy-f4-3x2.npy'));
    expect(f4.shape).toEqual([3, 2]);
    expect(Array.from(f4.values)).toEqual(Array.from(Float32Array.from([1, 2, 3, 4.5, -1e-3, 65504])));
    const f8 = await readNpy(fixture('numpy-f8-4.npy'));
    expect(f8.dtype).toBe('float64');
    expect(Array.from(f8.values)).toEqual([Math.PI, -1e-300, 7, 0.1]);
  });
});
