import { LipschitzError } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { type BackendName, prepareBackend, type PrepareBackendOptions } from './prepare-backend';

async function errorOf(name: BackendName, options?: PrepareBackendOptions): Promise<LipschitzError> {
  try {
    await prepareBackend(name, options);
  } catch (error) {
    if (LipschitzError.isInstance(error)) return error;
    throw error;
  }
  throw new Error(`prepareBackend('${name}') did not throw`);
}

describe('prepareBackend', () => {
  for (const name of ['cpu', 'wasm'] as const) {
    it(`${name}: selects the backend, gradients are registered, a conv filter trains`, async () => {
      const prepared = await prepareBackend(name);
      expect(prepared).toMatchObject({ backend: name, requested: name });
      expect(prepared.reason).toMatch(new RegExp(`^'${name}' was requested: `));
      expect(tf.getBackend()).toBe(name);
      const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(x, x)))(tf.tensor1d([1, 2, 3]));
      expect(Array.from(await g.data())).toEqual([2, 4, 6]);
      // d/dw Σ conv2d(x, w) for x = ones, 'valid', 1×1 kernel: every entry equals the number of pixels.
      const x = tf.ones([2, 3, 3, 2]) as tf.Tensor4D;
      const w = tf.variable(tf.zeros([1, 1, 2, 3]) as tf.Tensor4D);
      const { grads } = tf.variableGrads(() => tf.sum(tf.conv2d(x, w as unknown as tf.Tensor4D, 1, 'valid')), [w]);
      expect(Array.from(await grads[w.name].data())).toEqual(new Array(6).fill(18));
      tf.dispose([g, x, w, grads[w.name]]);
    });
  }

  it('auto in Node: tries node-gpu and node (not installed here), chooses wasm and says why', async () => {
    const prepared = await prepareBackend('auto');
    expect(prepared.backend).toBe('wasm');
    expect(prepared.requested).toBe('auto');
    expect(prepared.reason).toMatch(/^auto in Node \(order node-gpu > node > wasm\): node-gpu unavailable \(@tensorflow\/tfjs-node-gpu is not installed\); node unavailable \(@tensorflow\/tfjs-node is not installed\); chose wasm: wasm with the training kernels/);
    expect(prepared.reason).not.toContain('\n');
  });

  it('auto with the browser order (simulated): no navigator.gpu, no WebGL outside a browser, so wasm', async () => {
    const prepared = await prepareBackend('auto', { environment: 'browser' });
    expect(prepared.backend).toBe('wasm');
    expect(prepared.reason).toMatch(/^auto in a browser \(order webgpu > webgl > wasm\): webgpu unavailable \(this browser has no WebGPU \(navigator\.gpu is missing\)\); webgl unavailable \(the webgl backend failed to initialise.*\); chose wasm: /);
  });

  it("'node-gpu' without @tensorflow/tfjs-node-gpu installed: BACKEND_UNSUPPORTED with one line saying how to install it", async () => {
    const error = await errorOf('node-gpu');
    expect(error.code).toBe('BACKEND_UNSUPPORTED');
    expect(error.message).toMatch(
      /^prepareBackend: backend 'node-gpu' needs @tensorflow\/tfjs-node-gpu, which is not installed: run `npm i @tensorflow\/tfjs-node-gpu@4\.22\.0` \(it downloads libtensorflow\), or use 'wasm'\.$/,
    );
  });

  it("'node' without @tensorflow/tfjs-node installed: BACKEND_UNSUPPORTED", async () => {
    const error = await errorOf('node');
    expect(error.code).toBe('BACKEND_UNSUPPORTED');
    expect(error.message).toMatch(/^prepareBackend: backend 'node' needs @tensorflow\/tfjs-node, which is not installed: run `npm i @tensorflow\/tfjs-node@4\.22\.0`/);
  });

  it('node backends are refused in a browser, webgl outside one', async () => {
    expect((await errorOf('node', { environment: 'browser' })).message).toMatch(/^prepareBackend: backend 'node' \(@tensorflow\/tfjs-node\) runs only in Node\.js/);
    const webgl = await errorOf('webgl');
    expect(webgl.code).toBe('BACKEND_UNSUPPORTED');
    expect(webgl.message).toMatch(/^prepareBackend: backend 'webgl' needs a browser with WebGL2/);
  });

  it("'webgpu' in a browser without navigator.gpu: BACKEND_UNSUPPORTED", async () => {
    const error = await errorOf('webgpu', { environment: 'browser' });
    expect(error.code).toBe('BACKEND_UNSUPPORTED');
    expect(error.message).toMatch(/^prepareBackend: this browser has no WebGPU \(navigator\.gpu is missing\); use 'webgl' or 'wasm'\.$/);
  });

  it('validates its arguments', async () => {
    const bad = await errorOf('tpu' as BackendName);
    expect(bad.code).toBe('INVALID_ARGUMENT');
    expect(bad.message).toMatch(/^prepareBackend: unknown backend 'tpu'\. Use one of auto, wasm, cpu, node, node-gpu, webgpu, webgl\.$/);
    const env = await errorOf('cpu', { environment: 'deno' as 'node' });
    expect(env.message).toMatch(/^prepareBackend: environment must be 'node' or 'browser', got 'deno'\.$/);
  });

  it('wasmPaths after the wasm backend started: a clear BACKEND_UNSUPPORTED', async () => {
    await prepareBackend('wasm');
    const error = await errorOf('wasm', { wasmPaths: '/nowhere/' });
    expect(error.code).toBe('BACKEND_UNSUPPORTED');
    expect(error.message).toMatch(/^prepareBackend: wasmPaths must be set before the wasm backend first starts/);
  });
});
