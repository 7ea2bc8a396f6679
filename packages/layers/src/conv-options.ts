import { LipschitzError, assertPositiveInteger } from '@lipschitz/core';

/** Options shared by every convolution factory of this package (`bcopConv2d`, `rkoConv2d`, ...). */
export interface ConvLayerOptions {
  /** Input channels (≥ 1). */
  inChannels: number;
  /** Output channels (≥ 1). */
  outChannels: number;
  /** Square kernel size k (≥ 1); with a stride s it must be a multiple of s. */
  kernelSize: number;
  /** Stride s (default 1), done as the reference: invertible downsampling by s, then a k/s conv. */
  stride?: number;
  /** Learn a bias (default true). */
  bias?: boolean;
  /** Seed of the initial values (default 0). */
  seed?: number;
  /** Spatial input size `[h, w]`, for layers that need it at construction (OSSN's vector); optional. */
  inputSize?: [number, number];
}

/**
 * Checks the options every convolution factory shares; throws `INVALID_ARGUMENT` with a message
 * that starts with `fn`.
 */
export function validateConvOptions(fn: string, options: ConvLayerOptions): void {
  if (options == null || typeof options !== 'object') {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: options must be an object such as { inChannels: 1, outChannels: 16, kernelSize: 3 }.`);
  }
  assertPositiveInteger(fn, 'inChannels', options.inChannels);
  assertPositiveInteger(fn, 'outChannels', options.outChannels);
  assertPositiveInteger(fn, 'kernelSize', options.kernelSize);
  assertPositiveInteger(fn, 'stride', options.stride ?? 1);
  if (options.seed !== undefined && !Number.isInteger(options.seed)) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: seed must be an integer, got ${String(options.seed)}.`);
  }
  if (options.bias !== undefined && typeof options.bias !== 'boolean') {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: bias must be a boolean, got ${String(options.bias)}.`);
  }
  if (options.inputSize !== undefined) {
    const s = options.inputSize;
    if (!Array.isArray(s) || s.length !== 2) {
      throw new LipschitzError('INVALID_ARGUMENT', `${fn}: inputSize must be [height, width], got ${String(s)}.`);
    }
    assertPositiveInteger(fn, 'inputSize[0]', s[0]);
    assertPositiveInteger(fn, 'inputSize[1]', s[1]);
  }
  const k = options.kernelSize;
  const stride = options.stride ?? 1;
  if (k % stride !== 0) {
    throw new LipschitzError(
      'INVALID_ARGUMENT',
      `${fn}: kernelSize (${k}) must be a multiple of stride (${stride}) (strides are done by invertible downsampling, as in the reference). Pass e.g. kernelSize ${stride * Math.max(1, Math.round(k / stride))}.`,
    );
  }
}

/** Shape helpers for NHWC modules. */
export function assertNhwc(fn: string, inputShape: readonly number[], channels: number): void {
  if (inputShape.length !== 3 || inputShape[2] !== channels) {
    throw new LipschitzError(
      'SHAPE_MISMATCH',
      `${fn}: expected NHWC input with ${channels} channels (shape [batch, h, w, ${channels}]), got input shape [${inputShape.join(', ')}] (without batch).`,
    );
  }
}
