import { LipschitzError, importNodeModule } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';

type Fs = typeof import('node:fs/promises');
type Path = typeof import('node:path');

const MODEL_JSON = 'model.json';
const WEIGHTS_BIN = 'weights.bin';
const HINT = 'In the browser use tfjs\'s own handlers: model.save(\'indexeddb://name\') or \'downloads://name\'.';

/**
 * A tfjs `IOHandler` that saves a `LayersModel` to (and loads it from) a directory on the file system in
 * Node, without `@tensorflow/tfjs-node`: `DIR/model.json` (topology, weights manifest, training config)
 * and `DIR/weights.bin` (all weights, one file) — the layout of tfjs's `file://` handler, so
 * `tfjs-node` and the tfjs converter read the same files. The directory is created when missing.
 *
 * Ownership: nothing to dispose. `save` writes `weights.bin` then `model.json`.
 *
 * @throws LipschitzError `UNSUPPORTED_CONFIGURATION` outside Node; `IO_ERROR` when a file cannot be
 *   read or written; `CORRUPT_DATA` when `model.json` is not a tfjs model.
 * @example
 * ```ts
 * await model.save(fileSystem('runs/small'));
 * const loaded = await tf.loadLayersModel(fileSystem('runs/small'));
 * ```
 */
export function fileSystem(directory: string): tf.io.IOHandler {
  const fn = 'fileSystem';
  if (typeof directory !== 'string' || directory.length === 0) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: pass a directory path such as 'models/small'.`);
  }
  const modules = async () => ({
    fs: await importNodeModule<Fs>(fn, 'node:fs/promises', HINT),
    path: await importNodeModule<Path>(fn, 'node:path', HINT),
  });
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (artifacts.modelTopology instanceof ArrayBuffer) {
        throw new LipschitzError('UNSUPPORTED_CONFIGURATION', `${fn}: binary model topologies are not supported; save a LayersModel.`);
      }
      const { fs, path } = await modules();
      const weights = artifacts.weightData == null ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      const modelJson: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology as tf.io.ModelJSON['modelTopology'],
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }],
      };
      if (artifacts.trainingConfig != null) modelJson.trainingConfig = artifacts.trainingConfig;
      if (artifacts.userDefinedMetadata != null) modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
      try {
        await fs.mkdir(directory, { recursive: true });
        await fs.writeFile(path.join(directory, WEIGHTS_BIN), new Uint8Array(weights));
        await fs.writeFile(path.join(directory, MODEL_JSON), JSON.stringify(modelJson));
      } catch (cause) {
        throw new LipschitzError('IO_ERROR', `${fn}: could not write the model to ${directory}: ${(cause as Error).message}`, { cause });
      }
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      const { fs, path } = await modules();
      let modelJson: tf.io.ModelJSON;
      try {
        modelJson = JSON.parse(await fs.readFile(path.join(directory, MODEL_JSON), 'utf8')) as tf.io.ModelJSON;
      } catch (cause) {
        throw new LipschitzError('IO_ERROR', `${fn}: could not read ${path.join(directory, MODEL_JSON)}: ${(cause as Error).message}`, { cause });
      }
      if (modelJson == null || typeof modelJson !== 'object' || modelJson.modelTopology == null || !Array.isArray(modelJson.weightsManifest)) {
        throw new LipschitzError('CORRUPT_DATA', `${fn}: ${path.join(directory, MODEL_JSON)} is not a tfjs model.json (no modelTopology or weightsManifest).`);
      }
      return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const specs: tf.io.WeightsManifestEntry[] = [];
        const buffers: ArrayBuffer[] = [];
        for (const group of manifest) {
          specs.push(...group.weights);
          for (const file of group.paths) {
            try {
              const bytes = await fs.readFile(path.join(directory, file));
              buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
            } catch (cause) {
              throw new LipschitzError('IO_ERROR', `${fn}: could not read the weights file ${path.join(directory, file)}: ${(cause as Error).message}`, { cause });
            }
          }
        }
        return [specs, tf.io.CompositeArrayBuffer.join(buffers)];
      });
    },
  };
}
