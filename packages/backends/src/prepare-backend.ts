import { LipschitzError } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';
import './register-gradients';
import { registerWasmTrainingKernels } from './wasm-training-kernels';

/** Backend names accepted by {@link prepareBackend}. */
export type BackendName = 'auto' | 'wasm' | 'cpu' | 'node' | 'node-gpu' | 'webgpu' | 'webgl';

/** What {@link prepareBackend} chose, and why. */
export interface PreparedBackend {
  /** The tfjs backend now active (`tf.getBackend()`). */
  backend: string;
  /** The name that was asked for. */
  requested: BackendName;
  /** One sentence: why this backend was chosen. */
  reason: string;
}

/**
 * Prepares and selects a tfjs backend. (Minimal foundation version: cpu and wasm.)
 */
export async function prepareBackend(requested: BackendName = 'auto'): Promise<PreparedBackend> {
  const name = requested === 'auto' ? 'wasm' : requested;
  if (name === 'cpu') {
    await import('@tensorflow/tfjs-backend-cpu');
  } else if (name === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
    registerWasmTrainingKernels();
  } else {
    throw new LipschitzError('BACKEND_UNSUPPORTED', `prepareBackend: backend ${name} is not supported yet.`);
  }
  const ok = await tf.setBackend(name);
  if (!ok) throw new LipschitzError('BACKEND_UNSUPPORTED', `prepareBackend: backend ${name} failed to initialise.`);
  await tf.ready();
  return { backend: tf.getBackend(), requested, reason: requested === 'auto' ? 'default Node backend' : 'requested' };
}
