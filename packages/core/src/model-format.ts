import { LipschitzError } from './errors';

/** Identifier of the plain-weights export format (design.md, "Exported model format"). */
export const MODEL_FORMAT = 'lipschitz-model/1';

/**
 * A tensor inside a `lipschitz-model/1` file: row-major data, little-endian float32, base64.
 */
export interface ExportedTensor {
  shape: number[];
  dtype: 'float32';
  /** base64 of the little-endian float32 bytes, row-major. */
  data: string;
}

/** Circular padding as in the reference: for even k, k/2 rows/cols before and k/2 − 1 after. */
export type ExportedPadding = 'circular' | 'zero-same' | 'valid';

/** A stride-1 convolution with an HWIO kernel `[kh, kw, cin, cout]`. */
export interface ExportedConv2d {
  type: 'conv2d';
  padding: ExportedPadding;
  kernel: ExportedTensor;
  bias?: ExportedTensor;
}
/** `y = x W + b` with `W` of shape `[in, out]`. */
export interface ExportedDense {
  type: 'dense';
  weight: ExportedTensor;
  bias?: ExportedTensor;
}
/** NHWC space-to-depth: `out[b, y, x, (i*f + j)*C + c] = in[b, y*f + i, x*f + j, c]`. */
export interface ExportedInvertibleDownsample {
  type: 'invertibleDownsample';
  factor: number;
}
/** NHWC row-major flatten. */
export interface ExportedFlatten {
  type: 'flatten';
}
/** Channel i paired with channel i + C/2: first half max, second half min. */
export interface ExportedMaxMin {
  type: 'maxMin';
}
/** Sorts each group of `groupSize` consecutive channels in descending order. */
export interface ExportedGroupSort {
  type: 'groupSort';
  groupSize: number;
}
/** `max(x, 0)`. */
export interface ExportedRelu {
  type: 'relu';
}

/** One layer of a `lipschitz-model/1` file. */
export type ExportedLayer =
  | ExportedConv2d
  | ExportedDense
  | ExportedInvertibleDownsample
  | ExportedFlatten
  | ExportedMaxMin
  | ExportedGroupSort
  | ExportedRelu;

/**
 * The whole `lipschitz-model/1` file. `lipschitzUpperBound` is the sound ℓ2 bound of the exact network:
 * the product of the per-layer spectral norms computed in float64, each × (1 + 1e-12)
 * (`lipschitzUpperBound` of `@lipschitz/model-format`), the L `certify` reports. It is advisory: every
 * reader recomputes it from the weights. Files written before this rule stated the old rule's bound
 * (× (1 + 1e-5) per conv/dense layer more); they remain valid.
 */
export interface ExportedModel {
  format: typeof MODEL_FORMAT;
  input: { shape: number[]; range: [number, number] };
  layers: ExportedLayer[];
  lipschitzUpperBound: number;
  metadata?: Record<string, unknown>;
}

const BASE64_CHUNK = 0x8000;

function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += BASE64_CHUNK) {
    binary += String.fromCharCode(...bytes.subarray(i, i + BASE64_CHUNK));
  }
  return btoa(binary);
}

function base64ToBytes(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Encodes row-major float32 values as an {@link ExportedTensor}.
 * Throws `SHAPE_MISMATCH` when `values.length` is not the product of `shape`.
 */
export function encodeTensor(shape: readonly number[], values: ArrayLike<number>): ExportedTensor {
  const size = shape.reduce((a, b) => a * b, 1);
  if (values.length !== size) {
    throw new LipschitzError('SHAPE_MISMATCH', `encodeTensor: shape [${shape.join(', ')}] needs ${size} values, got ${values.length}.`);
  }
  const floats = Float32Array.from(values);
  const bytes = new Uint8Array(floats.buffer);
  if (!littleEndianHost) {
    for (let i = 0; i < bytes.length; i += 4) {
      [bytes[i], bytes[i + 3]] = [bytes[i + 3], bytes[i]];
      [bytes[i + 1], bytes[i + 2]] = [bytes[i + 2], bytes[i + 1]];
    }
  }
  return { shape: [...shape], dtype: 'float32', data: bytesToBase64(bytes) };
}

/**
 * Decodes an {@link ExportedTensor} to its shape and float32 values.
 * Throws `CORRUPT_DATA` on a wrong dtype, a bad shape or a byte length that does not match the shape.
 */
export function decodeTensor(tensor: ExportedTensor, where = 'tensor'): { shape: number[]; values: Float32Array } {
  if (tensor == null || typeof tensor !== 'object') {
    throw new LipschitzError('CORRUPT_DATA', `decodeTensor: ${where} is missing.`);
  }
  if (tensor.dtype !== 'float32') {
    throw new LipschitzError('CORRUPT_DATA', `decodeTensor: ${where} has dtype ${String(tensor.dtype)}; only float32 is supported.`);
  }
  if (!Array.isArray(tensor.shape) || tensor.shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new LipschitzError('CORRUPT_DATA', `decodeTensor: ${where} has an invalid shape.`);
  }
  if (typeof tensor.data !== 'string') {
    throw new LipschitzError('CORRUPT_DATA', `decodeTensor: ${where} has no base64 data.`);
  }
  let bytes: Uint8Array;
  try {
    bytes = base64ToBytes(tensor.data);
  } catch (cause) {
    throw new LipschitzError('CORRUPT_DATA', `decodeTensor: ${where} data is not valid base64.`, { cause });
  }
  const size = tensor.shape.reduce((a, b) => a * b, 1);
  if (bytes.length !== size * 4) {
    throw new LipschitzError(
      'CORRUPT_DATA',
      `decodeTensor: ${where} has ${bytes.length} bytes but shape [${tensor.shape.join(', ')}] needs ${size * 4}.`,
    );
  }
  if (!littleEndianHost) {
    for (let i = 0; i < bytes.length; i += 4) {
      [bytes[i], bytes[i + 3]] = [bytes[i + 3], bytes[i]];
      [bytes[i + 1], bytes[i + 2]] = [bytes[i + 2], bytes[i + 1]];
    }
  }
  return { shape: [...tensor.shape], values: new Float32Array(bytes.buffer, bytes.byteOffset, size) };
}
