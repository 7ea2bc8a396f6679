import { LipschitzError } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';
import type { LayerConfig, LayerModule } from './layer-base';
import { layerFromConfig } from './layer-from-config';

/** Identifier of the saved-model container written by {@link serializeModel}. */
export const SAVED_MODEL_FORMAT = 'lipschitz-layers-saved/1';
const MAGIC = 'LPZSAVE1';

/** A named tensor, as tfjs optimizers' `getWeights()` return. */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

/** An optimizer whose state can be saved: tfjs's `tf.train.*` optimizers. */
export interface SavableOptimizer {
  getWeights(): Promise<NamedTensor[]>;
  setWeights(weights: NamedTensor[]): Promise<void>;
}

/** Options of {@link serializeModel} / `saveModel`. */
export interface SerializeModelOptions {
  /** Also save this optimizer's state (`optimizer.getWeights()`), e.g. a `tf.train.adam`. */
  optimizer?: SavableOptimizer;
  /** Free-form JSON stored beside the model (training config, epoch, …). */
  metadata?: Record<string, unknown>;
}

/** Options of {@link deserializeModel} / `loadModel`. */
export interface DeserializeModelOptions {
  /** Restore the saved optimizer state into this optimizer (`setWeights`), when the file has one. */
  optimizer?: SavableOptimizer;
}

/** What {@link deserializeModel} / `loadModel` return. */
export interface LoadedModel {
  /** The rebuilt model with the saved variable values (owned by the caller). */
  model: LayerModule;
  /** The metadata given to `serializeModel`, or `{}`. */
  metadata: Record<string, unknown>;
  /** True when the file had optimizer state and it was restored into `options.optimizer`. */
  optimizerRestored: boolean;
}

interface Header {
  format: string;
  config: LayerConfig;
  weights: tf.io.WeightsManifestEntry[];
  optimizer: { names: string[]; weights: tf.io.WeightsManifestEntry[] } | null;
  metadata: Record<string, unknown>;
  byteLength: number;
  crc32: number;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function concatBuffers(buffers: ArrayBuffer[]): Uint8Array {
  const total = buffers.reduce((a, b) => a + b.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const b of buffers) {
    out.set(new Uint8Array(b), offset);
    offset += b.byteLength;
  }
  return out;
}

/**
 * Serializes a model to bytes: its architecture (`model.config`, which `layerFromConfig` rebuilds),
 * every variable (`model.variables`, in order) and optionally the optimizer state, in tfjs's weights
 * format (`tf.io.encodeWeights`: a JSON manifest + little-endian binary), with a CRC-32 of the binary.
 * Works in the browser; `saveModel` writes the same bytes to a file atomically.
 *
 * Layout: 8 bytes `LPZSAVE1`, a uint32 (little-endian) JSON length, the JSON header, the weight bytes,
 * then the optimizer bytes.
 *
 * Ownership: borrows the model and optimizer; returns new bytes. Throws `INVALID_ARGUMENT` when
 * `model` is not a module of this package.
 *
 * @example
 * ```ts
 * const bytes = await serializeModel(model, { optimizer });
 * const { model: copy } = await deserializeModel(bytes);
 * ```
 */
export async function serializeModel(model: LayerModule, options: SerializeModelOptions = {}): Promise<Uint8Array> {
  if (model == null || typeof model !== 'object' || model.config == null || !Array.isArray(model.variables)) {
    throw new LipschitzError('INVALID_ARGUMENT', 'serializeModel: model must be a module of @lipschitz/layers (with config and variables).');
  }
  const named = model.variables.map((v, i) => ({ name: `w${i}`, tensor: v as tf.Tensor }));
  const weights = await tf.io.encodeWeights(named);
  let optimizer: Header['optimizer'] = null;
  let optimizerData = new ArrayBuffer(0);
  if (options.optimizer) {
    const optWeights = await options.optimizer.getWeights();
    const encoded = await tf.io.encodeWeights(optWeights.map((w, i) => ({ name: `o${i}`, tensor: w.tensor })));
    optimizer = { names: optWeights.map((w) => w.name), weights: encoded.specs };
    optimizerData = encoded.data as ArrayBuffer;
  }
  const binary = concatBuffers([weights.data as ArrayBuffer, optimizerData]);
  const header: Header = {
    format: SAVED_MODEL_FORMAT,
    config: model.config,
    weights: weights.specs,
    optimizer,
    metadata: options.metadata ?? {},
    byteLength: binary.byteLength,
    crc32: crc32(binary),
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + 4 + json.byteLength + binary.byteLength);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(8, json.byteLength, true);
  out.set(json, 12);
  out.set(binary, 12 + json.byteLength);
  return out;
}

function corrupt(message: string, cause?: unknown): LipschitzError {
  return new LipschitzError('CORRUPT_DATA', `deserializeModel: ${message}`, cause === undefined ? undefined : { cause });
}

function byteSize(specs: tf.io.WeightsManifestEntry[]): number {
  let total = 0;
  for (const s of specs) {
    if (s == null || !Array.isArray(s.shape) || (s.dtype !== 'float32' && s.dtype !== 'int32') || s.quantization != null || s.shape.some((d) => !Number.isInteger(d) || d < 0)) {
      throw corrupt('a weight entry is malformed (only float32/int32 weights with integer shapes are supported).');
    }
    total += 4 * s.shape.reduce((a, b) => a * b, 1);
  }
  return total;
}

function parseHeader(bytes: Uint8Array): { header: Header; binary: Uint8Array } {
  if (!(bytes instanceof Uint8Array) || bytes.byteLength < 12) throw corrupt('the data is too short to be a saved model.');
  if (new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) throw corrupt('this is not a saved model (bad magic bytes).');
  const jsonLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
  if (12 + jsonLength > bytes.byteLength) throw corrupt('the header length exceeds the data.');
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(12, 12 + jsonLength)));
  } catch (cause) {
    throw corrupt('the header is not valid JSON.', cause);
  }
  if (header == null || typeof header !== 'object' || header.format !== SAVED_MODEL_FORMAT) {
    throw corrupt(`unknown format ${JSON.stringify((header as Partial<Header> | null)?.format)}; expected '${SAVED_MODEL_FORMAT}'.`);
  }
  if (!Array.isArray(header.weights)) throw corrupt('the header has no weights manifest.');
  const binary = bytes.subarray(12 + jsonLength);
  if (binary.byteLength !== header.byteLength) throw corrupt(`expected ${header.byteLength} weight bytes, found ${binary.byteLength} (truncated file?).`);
  if (crc32(binary) !== header.crc32) throw corrupt('the weight bytes do not match their checksum (the file is damaged).');
  const optimizerSize = header.optimizer ? byteSize(header.optimizer.weights) : 0;
  if (header.optimizer && (!Array.isArray(header.optimizer.names) || header.optimizer.names.length !== header.optimizer.weights.length)) {
    throw corrupt('the optimizer entry is malformed.');
  }
  if (byteSize(header.weights) + optimizerSize !== binary.byteLength) throw corrupt('the weights manifest does not match the weight bytes.');
  return { header, binary };
}

/**
 * Rebuilds a model from {@link serializeModel}'s bytes: the architecture from the saved config, then
 * every variable from the saved values; restores the optimizer state into `options.optimizer` when
 * given. Everything is validated before anything is assigned, so on error nothing changes (the
 * partly built model is disposed and the optimizer is untouched).
 *
 * Ownership: the caller owns the returned model. Throws `CORRUPT_DATA` (bad magic, JSON, checksum,
 * manifest or config) and `SHAPE_MISMATCH` (the saved variables do not fit the rebuilt model).
 *
 * @example
 * ```ts
 * const { model, metadata } = await deserializeModel(bytes, { optimizer });
 * ```
 */
export async function deserializeModel(bytes: Uint8Array, options: DeserializeModelOptions = {}): Promise<LoadedModel> {
  const { header, binary } = parseHeader(bytes);
  let model: LayerModule;
  try {
    model = layerFromConfig(header.config);
  } catch (cause) {
    if (LipschitzError.isInstance(cause) && cause.code === 'CORRUPT_DATA') throw cause;
    throw corrupt(`the saved architecture cannot be rebuilt: ${(cause as Error)?.message ?? String(cause)}`, cause);
  }
  try {
    const variables = model.variables;
    if (variables.length !== header.weights.length) {
      throw new LipschitzError(
        'SHAPE_MISMATCH',
        `deserializeModel: the file has ${header.weights.length} variables but the rebuilt model has ${variables.length}.`,
      );
    }
    variables.forEach((v, i) => {
      if (header.weights[i].dtype !== 'float32') throw corrupt(`saved variable ${i} is not float32.`);
      const shape = header.weights[i].shape;
      if (shape.length !== v.shape.length || shape.some((d, j) => d !== v.shape[j])) {
        throw new LipschitzError(
          'SHAPE_MISMATCH',
          `deserializeModel: saved variable ${i} has shape [${shape.join(', ')}] but the model expects [${v.shape.join(', ')}].`,
        );
      }
    });
    const weightBytes = byteSize(header.weights);
    const own = (u: Uint8Array) => u.slice().buffer;
    const decoded = tf.io.decodeWeights(own(binary.subarray(0, weightBytes)), header.weights);
    let optimizerTensors: NamedTensor[] | null = null;
    if (header.optimizer && options.optimizer) {
      const map = tf.io.decodeWeights(own(binary.subarray(weightBytes)), header.optimizer.weights);
      optimizerTensors = header.optimizer.weights.map((spec, i) => ({ name: header.optimizer!.names[i], tensor: map[spec.name] }));
    }
    variables.forEach((v, i) => {
      v.assign(decoded[header.weights[i].name]);
    });
    tf.dispose(Object.values(decoded));
    if (optimizerTensors && options.optimizer) {
      await options.optimizer.setWeights(optimizerTensors);
      tf.dispose(optimizerTensors.map((t) => t.tensor));
    }
    return { model, metadata: header.metadata ?? {}, optimizerRestored: optimizerTensors !== null };
  } catch (error) {
    model.dispose();
    throw error;
  }
}
