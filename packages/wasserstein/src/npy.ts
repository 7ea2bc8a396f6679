import { LipschitzError } from '@lipschitz/core';

/** A parsed `.npy` array: row-major values, shape, and the on-disk dtype. */
export interface NpyArray {
  shape: number[];
  dtype: 'float32' | 'float64';
  values: Float32Array | Float64Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

function corrupt(where: string, what: string): LipschitzError {
  return new LipschitzError('CORRUPT_DATA', `parseNpy: ${where}: ${what}. Save arrays with numpy.save(file, array.astype('float32')) (C order).`);
}

/**
 * Parses a NumPy `.npy` file (format versions 1.0, 2.0 and 3.0) holding a little-endian `float32` (`<f4`) or
 * `float64` (`<f8`) array in C order. Other dtypes, big-endian data, Fortran order and truncated files
 * raise `CORRUPT_DATA` naming `where` (the file name).
 *
 * Format: NumPy Enhancement Proposal 1 (`numpy/lib/format.py`).
 * @example
 * ```ts
 * const { shape, values } = parseNpy(await readFile('a.npy'), 'a.npy');
 * ```
 */
export function parseNpy(bytes: Uint8Array, where = '.npy data'): NpyArray {
  if (bytes.length < 10 || MAGIC.some((m, i) => bytes[i] !== m)) throw corrupt(where, 'not a .npy file (bad magic string)');
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLength: number;
  let headerStart: number;
  if (major === 1) {
    headerLength = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw corrupt(where, 'truncated header');
    headerLength = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw corrupt(where, `unsupported format version ${major}`);
  }
  if (headerStart + headerLength > bytes.length) throw corrupt(where, 'truncated header');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, headerStart + headerLength));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw corrupt(where, 'malformed header');
  if (fortran === 'True') throw corrupt(where, 'Fortran-ordered arrays are not supported');
  let dtype: NpyArray['dtype'];
  if (descr === '<f4') dtype = 'float32';
  else if (descr === '<f8') dtype = 'float64';
  else throw corrupt(where, `dtype ${descr} is not supported (only <f4 and <f8)`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => Number(s));
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw corrupt(where, `invalid shape (${shapeText})`);
  const size = shape.reduce((x, y) => x * y, 1);
  const itemSize = dtype === 'float32' ? 4 : 8;
  const dataStart = headerStart + headerLength;
  const expected = size * itemSize;
  if (bytes.length - dataStart !== expected) {
    throw corrupt(where, `data has ${bytes.length - dataStart} bytes but shape (${shape.join(', ')}) of ${descr} needs ${expected}`);
  }
  // A fresh, aligned copy (Node Buffers' slice() is a view into a shared pool, so copy explicitly).
  const copy = new Uint8Array(expected);
  copy.set(bytes.subarray(dataStart, dataStart + expected));
  const values = dtype === 'float32' ? new Float32Array(copy.buffer, 0, size) : new Float64Array(copy.buffer, 0, size);
  return { shape, dtype, values };
}

/**
 * Serialises a row-major float32 or float64 array as a `.npy` (version 1.0) file that `numpy.load` reads.
 * @throws LipschitzError `SHAPE_MISMATCH` when `values.length` is not the product of `shape`.
 */
export function serializeNpy(values: Float32Array | Float64Array, shape: readonly number[]): Uint8Array {
  const size = shape.reduce((x, y) => x * y, 1);
  if (values.length !== size) {
    throw new LipschitzError('SHAPE_MISMATCH', `serializeNpy: shape (${shape.join(', ')}) needs ${size} values, got ${values.length}.`);
  }
  const descr = values instanceof Float32Array ? '<f4' : '<f8';
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const headerBytes = new TextEncoder().encode(header);
  const out = new Uint8Array(10 + headerBytes.length + values.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, headerBytes.length, true);
  out.set(headerBytes, 10);
  out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), 10 + headerBytes.length);
  return out;
}
