import { LipschitzError } from '@lipschitz/core';
import {
  backend_util,
  type DataType,
  getKernel,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type NamedTensorInfoMap,
  registerKernel,
  slice_util,
  type TensorInfo,
  unregisterKernel,
  util,
} from '@tensorflow/tfjs-core';

/**
 * The kernels {@link registerWasmTrainingKernels} adds to (or replaces in) the `wasm` backend.
 *
 * - `Conv2DBackpropFilter`: missing from tfjs-backend-wasm 4.22; without it no convolution filter
 *   can be trained on wasm.
 * - `Conv2DBackpropInput`: replaced by a much faster formulation (stock kernel kept as fallback).
 * - `BatchMatMul`, `_FusedMatMul`: replaced so that `transposeA`/`transposeB` are applied by an
 *   explicit transpose (the flagged stock path is 12–30× slower), and batches of large matrices are
 *   multiplied one matrix at a time (see {@link WASM_LOOPED_MATMUL_MIN_WORK}).
 * - `UnsortedSegmentSum`: missing; needed by the gradient of `tf.gather`.
 * - `Slice`, `SplitV`, `StridedSlice` (stride-1 case): replaced so that they read the input through a view
 *   of the wasm heap; the stock kernels first copy the WHOLE input to the JS heap (`readSync`) for every
 *   slice, so a two-way split or a narrow border strip cost several full copies.
 */
export const WASM_TRAINING_KERNELS = [
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'BatchMatMul',
  '_FusedMatMul',
  'UnsortedSegmentSum',
  'Slice',
  'SplitV',
  'StridedSlice',
] as const;

/** Name of one kernel in {@link WASM_TRAINING_KERNELS}. */
export type WasmTrainingKernelName = (typeof WASM_TRAINING_KERNELS)[number];

// The part of tfjs-backend-wasm's BackendWasm that the kernels below use.
interface WasmBackendLike {
  disposeData(dataId: object, force?: boolean): boolean;
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}

type HeapArray = Float32Array | Int32Array | Uint8Array;

type KernelArgs = Parameters<KernelFunc>[0];

// Marks kernel functions registered by this module, so registration stays idempotent even when two
// copies of this package share one tfjs-core kernel registry (which is global).
const OURS = Symbol.for('lipschitz.backends.wasmTrainingKernel');
// Stock wasm kernels replaced by ours, shared between copies of this package for the same reason.
const STOCK_KEY = Symbol.for('lipschitz.backends.wasmStockKernels');

function stockKernels(): Map<string, KernelConfig> {
  const g = globalThis as unknown as Record<symbol, Map<string, KernelConfig> | undefined>;
  let map = g[STOCK_KEY];
  if (map === undefined) {
    map = new Map();
    g[STOCK_KEY] = map;
  }
  return map;
}

function wasmKernel(name: string): KernelFunc {
  const config = getKernel(name, 'wasm');
  if (config === undefined) {
    throw new LipschitzError(
      'BACKEND_UNSUPPORTED',
      `registerWasmTrainingKernels: the wasm kernel '${name}' is not registered. Import '@tensorflow/tfjs-backend-wasm' (or call prepareBackend('wasm')) first.`,
    );
  }
  return config.kernelFunc;
}

function run(name: string, inputs: Record<string, TensorInfo>, backend: unknown, attrs: NamedAttrMap = {}): TensorInfo {
  return wasmKernel(name)({ inputs, backend: backend as object, attrs }) as TensorInfo;
}

function runStock(name: string, args: KernelArgs): TensorInfo {
  const stock = stockKernels().get(name);
  if (stock === undefined) {
    throw new LipschitzError('BACKEND_UNSUPPORTED', `registerWasmTrainingKernels: no stock wasm '${name}' kernel to fall back to.`);
  }
  return stock.kernelFunc(args) as TensorInfo;
}

function release(backend: unknown, ...infos: TensorInfo[]): void {
  for (const info of infos) (backend as WasmBackendLike).disposeData(info.dataId);
}

function transpose(x: TensorInfo, perm: number[], backend: unknown): TensorInfo {
  return run('Transpose', { x }, backend, { perm });
}

function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

type ConvAttrs = {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
};

function explicitPad(top: number, bottom: number, left: number, right: number): backend_util.ExplicitPadding {
  return [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ];
}

function requireChannelsLast(dataFormat: string, kernel: string): void {
  if (dataFormat !== 'NHWC') {
    throw new LipschitzError(
      'BACKEND_UNSUPPORTED',
      `${kernel} (wasm, @lipschitz/backends): dataFormat '${dataFormat}' is not supported. Use NHWC (channelsLast).`,
    );
  }
}

/**
 * dW[p, q, c, o] = Σ_{b,i,j} x_pad[b, i·sh + p, j·sw + q, c] · dy[b, i, j, o]: a stride-1 convolution,
 * dilated by the forward strides, of the input with channels moved to the batch axis
 * ([C, H, W, B]) and the output gradient used as the filter ([OH, OW, B, O]); the result [C, KH, KW, O]
 * is transposed back to HWIO.
 */
function conv2DBackpropFilterAsConv(args: KernelArgs): TensorInfo {
  const { inputs, backend } = args;
  const x = inputs.x as TensorInfo;
  const dy = inputs.dy as TensorInfo;
  const attrs = args.attrs as unknown as ConvAttrs & { filterShape: [number, number, number, number] };
  requireChannelsLast(attrs.dataFormat, 'Conv2DBackpropFilter');
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw, outHeight: oh, outWidth: ow } = info;
  const { top, left } = info.padInfo;
  // Rows/columns of the padded input the forward convolution actually reads.
  const bottom = (oh - 1) * sh + kh - top - info.inHeight;
  const right = (ow - 1) * sw + kw - left - info.inWidth;
  const xT = transpose(x, [3, 1, 2, 0], backend);
  const dyT = transpose(dy, [1, 2, 0, 3], backend);
  const conv = run('Conv2D', { x: xT, filter: dyT }, backend, {
    strides: [1, 1],
    dilations: [sh, sw],
    pad: explicitPad(top, Math.max(0, bottom), left, Math.max(0, right)),
    dataFormat: 'NHWC',
    dimRoundingMode: undefined,
  } as unknown as NamedAttrMap);
  release(backend, xT, dyT);
  let cropped = conv;
  if (bottom < 0 || right < 0) {
    // Input rows past the last window (valid padding with a stride that does not divide evenly)
    // give extra output rows/columns here: keep the first kh × kw.
    cropped = run('Slice', { x: conv }, backend, { begin: [0, 0, 0, 0], size: [conv.shape[0], kh, kw, conv.shape[3]] });
    release(backend, conv);
  }
  const result = transpose(cropped, [1, 2, 0, 3], backend);
  release(backend, cropped);
  return result;
}

/**
 * How the wasm `Conv2DBackpropFilter` is computed (see {@link setWasmConvFilterGradFormulation}):
 * - `'im2col'` (default): when the patch side is short (`KH·KW·C ≤ 64`, e.g. the first layer of a network),
 *   the input windows are gathered once, straight from the wasm heap, into the patch matrix
 *   `[KH·KW·C, B·OH·OW]`, and the gradient is one matrix product with `dy` `[B·OH·OW, O]`, already HWIO —
 *   no transposes; otherwise as `'conv'`, which is faster there (measured: bench/wasm-conv-grads.bench.ts);
 * - `'conv'`: the former formulation everywhere, one convolution whose "filter" is the whole output gradient.
 */
export type WasmConvFilterGradFormulation = 'im2col' | 'conv';

let filterGradFormulation: WasmConvFilterGradFormulation = 'im2col';

/**
 * Selects the formulation of the wasm `Conv2DBackpropFilter` kernel registered by
 * {@link registerWasmTrainingKernels} (default `'im2col'`); `'conv'` is the former one, kept for the
 * same-run comparison of the benchmarks. Both give the same values (up to float32 rounding).
 *
 * @returns the formulation in use before this call.
 * @throws LipschitzError `INVALID_ARGUMENT` for any other value.
 * @example
 * ```ts
 * const before = setWasmConvFilterGradFormulation('conv'); // time the former kernel ...
 * setWasmConvFilterGradFormulation(before);
 * ```
 */
export function setWasmConvFilterGradFormulation(formulation: WasmConvFilterGradFormulation): WasmConvFilterGradFormulation {
  if (formulation !== 'im2col' && formulation !== 'conv') {
    throw new LipschitzError('INVALID_ARGUMENT', `setWasmConvFilterGradFormulation: formulation must be 'im2col' or 'conv', got ${String(formulation)}.`);
  }
  const before = filterGradFormulation;
  filterGradFormulation = formulation;
  return before;
}

/**
 * The patch-matrix formulation is used up to this many patch rows (`KH·KW·C`): measured on wasm at
 * batch 128, it is 3–6× faster than the convolution formulation for 2×2×4 and 3×3×1 patches and about
 * 2× slower for 2×2×64 and larger (bench/results/wasm-conv-grads.json).
 */
export const WASM_PATCH_FILTER_GRAD_MAX_ROWS = 64;

function conv2DInfoOf(x: TensorInfo, attrs: ConvAttrs & { filterShape: [number, number, number, number] }): backend_util.Conv2DInfo {
  requireChannelsLast(attrs.dataFormat, 'Conv2DBackpropFilter');
  return backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
}

/**
 * dW[p, q, c, o] = Σ_{b,i,j} x[b, i·sh + p − top, j·sw + q − left, c] · dy[b, i, j, o] (zero outside x),
 * as one matrix product `patches · dy` of the transposed patch matrix (the input windows, gathered from
 * the wasm heap by {@link fillPatchesTransposed}) and the output gradient `[B·OH·OW, O]`.
 */
function conv2DBackpropFilterPatches(x: TensorInfo, dy: TensorInfo, info: backend_util.Conv2DInfo, backend: unknown): TensorInfo {
  const { filterHeight: kh, filterWidth: kw, outHeight: oh, outWidth: ow, inChannels: c, outChannels: o } = info;
  const n = info.batchSize * oh * ow;
  const wasm = backend as WasmBackendLike;
  const patches = wasm.makeOutput([1, kh * kw * c, n], 'float32');
  // Views taken after the allocation (growing the heap detaches older views).
  fillPatchesTransposed(wasm.typedArrayFromHeap(x), wasm.typedArrayFromHeap(patches), info);
  const dy3 = run('Reshape', { x: dy }, backend, { shape: [1, n, o] });
  try {
    const product = runStock('BatchMatMul', { inputs: { a: patches, b: dy3 }, backend: backend as object, attrs: { transposeA: false, transposeB: false } });
    const result = run('Reshape', { x: product }, backend, { shape: [kh, kw, c, o] });
    release(backend, product);
    return result;
  } finally {
    release(backend, patches, dy3);
  }
}

/**
 * Writes the transposed patch matrix of a convolution: entry ((p·KW + q)·C + c, (b·OH + i)·OW + j) is
 * x[b, i·sh + p − top, j·sw + q − left, c], 0 where that falls in the padding. Reads x in order; writes
 * `KH·KW·C` interleaved rows.
 */
function fillPatchesTransposed(x: Float32Array, out: Float32Array, info: backend_util.Conv2DInfo): void {
  const { batchSize: b, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = info;
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info;
  const { top, left } = info.padInfo;
  const n = b * oh * ow;
  let col = 0;
  for (let bi = 0; bi < b; bi++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++, col++) {
        for (let p = 0; p < kh; p++) {
          const y = i * sh + p - top;
          const rowInside = y >= 0 && y < h;
          for (let q = 0; q < kw; q++) {
            const xx = j * sw + q - left;
            let dst = (p * kw + q) * c * n + col;
            if (!rowInside || xx < 0 || xx >= w) {
              for (let k = 0; k < c; k++, dst += n) out[dst] = 0;
              continue;
            }
            const src = ((bi * h + y) * w + xx) * c;
            for (let k = 0; k < c; k++, dst += n) out[dst] = x[src + k];
          }
        }
      }
    }
  }
}

function conv2DBackpropFilter(args: KernelArgs): TensorInfo {
  const attrs = args.attrs as unknown as ConvAttrs & { filterShape: [number, number, number, number] };
  const x = args.inputs.x as TensorInfo;
  const info = conv2DInfoOf(x, attrs);
  const rows = info.filterHeight * info.filterWidth * info.inChannels;
  if (filterGradFormulation === 'im2col' && rows <= WASM_PATCH_FILTER_GRAD_MAX_ROWS && x.dtype === 'float32') {
    return conv2DBackpropFilterPatches(x, args.inputs.dy as TensorInfo, info, args.backend);
  }
  return conv2DBackpropFilterAsConv(args);
}

/**
 * dx = conv_valid(pad(dy_up), reverse_hw(W)ᵀ): for stride 1, a 'valid' convolution of the padded
 * output gradient with the spatially reversed, in/out-transposed kernel. For stride s > 1 the output
 * gradient is first upsampled by inserting s − 1 zeros between entries (dy_up), which turns the
 * strided transpose into a stride-1 one.
 */
function conv2DBackpropInput(args: KernelArgs): TensorInfo {
  const { inputs, backend } = args;
  const dy = inputs.dy as TensorInfo;
  const filter = inputs.filter as TensorInfo;
  const attrs = args.attrs as unknown as ConvAttrs & { inputShape: [number, number, number, number] };
  if (attrs.dataFormat !== 'NHWC') return runStock('Conv2DBackpropInput', args);
  const info = backend_util.computeConv2DInfo(
    attrs.inputShape,
    filter.shape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw, outHeight: oh, outWidth: ow } = info;
  const { inHeight: h, inWidth: w } = info;
  const { top, left } = info.padInfo;
  // Height/width of the (zero-upsampled) output gradient.
  const upH = oh * sh;
  const upW = ow * sw;
  const padTop = kh - 1 - top;
  const padLeft = kw - 1 - left;
  const padBottom = h - upH + top;
  const padRight = w - upW + left;
  if (padTop < 0 || padLeft < 0) return runStock('Conv2DBackpropInput', args);
  let dyUp = dy;
  if (sh > 1 || sw > 1) {
    const [b, , , o] = dy.shape;
    const r = run('Reshape', { x: dy }, backend, { shape: [b, oh, 1, ow, 1, o] });
    const p = run('PadV2', { x: r }, backend, {
      paddings: [
        [0, 0],
        [0, 0],
        [0, sh - 1],
        [0, 0],
        [0, sw - 1],
        [0, 0],
      ],
      constantValue: 0,
    });
    dyUp = run('Reshape', { x: p }, backend, { shape: [b, upH, upW, o] });
    release(backend, r, p);
  }
  const reversed = run('Reverse', { x: filter }, backend, { dims: [0, 1] });
  const flipped = transpose(reversed, [0, 1, 3, 2], backend);
  release(backend, reversed);
  let dx = run('Conv2D', { x: dyUp, filter: flipped }, backend, {
    strides: [1, 1],
    dilations: [1, 1],
    pad: explicitPad(padTop, Math.max(0, padBottom), padLeft, Math.max(0, padRight)),
    dataFormat: 'NHWC',
    dimRoundingMode: undefined,
  } as unknown as NamedAttrMap);
  release(backend, flipped);
  if (dyUp !== dy) release(backend, dyUp);
  if (padBottom < 0 || padRight < 0) {
    // Trailing output-gradient rows past the input (zeros from the upsampling, or windows that
    // only covered padding) produce extra rows here: keep the first h × w.
    const cropped = run('Slice', { x: dx }, backend, { begin: [0, 0, 0, 0], size: [dx.shape[0], h, w, dx.shape[3]] });
    release(backend, dx);
    dx = cropped;
  }
  return dx;
}

const ACTIVATION_KERNELS: Record<string, string | undefined> = {
  linear: undefined,
  relu: 'Relu',
  relu6: 'Relu6',
  elu: 'Elu',
  sigmoid: 'Sigmoid',
  leakyrelu: 'LeakyRelu',
  prelu: 'Prelu',
};

/**
 * The stock wasm `_FusedMatMul` adds the bias to the wrong rows when the batch size is > 1 (tfjs 4.22);
 * compute those as matMul, then `Add` (broadcast), then the activation kernel.
 */
function fusedMatMulUnfused(args: KernelArgs): TensorInfo {
  const { backend } = args;
  const { a, b, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
  const attrs = args.attrs as unknown as { activation: string; leakyreluAlpha?: number };
  const product = runStock('BatchMatMul', { inputs: { a: a as TensorInfo, b: b as TensorInfo }, backend, attrs: { transposeA: false, transposeB: false } });
  const biased = run('Add', { a: product, b: bias as TensorInfo }, backend);
  release(backend, product);
  const activation = attrs.activation ?? 'linear';
  if (!(activation in ACTIVATION_KERNELS)) {
    release(backend, biased);
    throw new LipschitzError('BACKEND_UNSUPPORTED', `_FusedMatMul (wasm, @lipschitz/backends): activation '${activation}' is not supported.`);
  }
  const kernel = ACTIVATION_KERNELS[activation];
  if (kernel === undefined) return biased;
  const inputs: Record<string, TensorInfo> = kernel === 'Prelu' ? { x: biased, alpha: preluActivationWeights as TensorInfo } : { x: biased };
  const activated = run(kernel, inputs, backend, kernel === 'LeakyRelu' ? { alpha: attrs.leakyreluAlpha ?? 0.2 } : {});
  release(backend, biased);
  return activated;
}

function needsUnfusing(name: string, args: KernelArgs): boolean {
  if (name !== '_FusedMatMul') return false;
  const bias = args.inputs.bias as TensorInfo | undefined;
  if (bias == null) return false;
  const a = args.inputs.a as TensorInfo;
  const b = args.inputs.b as TensorInfo;
  const batch = Math.max(a.shape.slice(0, -2).reduce((p, d) => p * d, 1), b.shape.slice(0, -2).reduce((p, d) => p * d, 1));
  return batch > 1 || bias.shape.length !== 1;
}

/**
 * Products of at least this many multiply-adds per matrix run one matrix at a time: the stock wasm
 * `BatchMatMul` is several times slower on a batch of large matrices than on the same matrices one by one
 * (measured: [3, 256, 256] × [3, 256, 256] 100 ms batched, 24 ms one by one), while for small matrices the
 * batched kernel wins.
 */
export const WASM_LOOPED_MATMUL_MIN_WORK = 128 * 128 * 128;

/** `a [B, m, k] × b [B, k, n]` (no flags, same batch) as B single products, concatenated. */
function loopedBatchMatMul(a: TensorInfo, b: TensorInfo, backend: unknown): TensorInfo {
  const [batch, m, k] = a.shape;
  const n = b.shape[2];
  const products: TensorInfo[] = [];
  try {
    for (let i = 0; i < batch; i++) {
      const ai = run('Slice', { x: a }, backend, { begin: [i, 0, 0], size: [1, m, k] });
      const bi = run('Slice', { x: b }, backend, { begin: [i, 0, 0], size: [1, k, n] });
      try {
        products.push(runStock('BatchMatMul', { inputs: { a: ai, b: bi }, backend: backend as object, attrs: { transposeA: false, transposeB: false } }));
      } finally {
        release(backend, ai, bi);
      }
    }
    return wasmKernel('Concat')({ inputs: products as unknown as NamedTensorInfoMap, backend: backend as object, attrs: { axis: 0 } }) as TensorInfo;
  } finally {
    release(backend, ...products);
  }
}

function shouldLoop(a: TensorInfo, b: TensorInfo): boolean {
  return (
    a.shape.length === 3 &&
    b.shape.length === 3 &&
    a.shape[0] > 1 &&
    a.shape[0] === b.shape[0] &&
    a.shape[1] * a.shape[2] * b.shape[2] >= WASM_LOOPED_MATMUL_MIN_WORK
  );
}

/** Stock `BatchMatMul` on unflagged operands, one matrix at a time when that is faster. */
function unflaggedBatchMatMul(args: KernelArgs): TensorInfo {
  const a = args.inputs.a as TensorInfo;
  const b = args.inputs.b as TensorInfo;
  return shouldLoop(a, b) ? loopedBatchMatMul(a, b, args.backend) : runStock('BatchMatMul', args);
}

function matMulWithoutFlags(name: 'BatchMatMul' | '_FusedMatMul') {
  const multiply = (args: KernelArgs) => (name === 'BatchMatMul' ? unflaggedBatchMatMul(args) : runStock(name, args));
  return (args: KernelArgs): TensorInfo => {
    const attrs = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
    const unfuse = needsUnfusing(name, args);
    if (!attrs.transposeA && !attrs.transposeB) return unfuse ? fusedMatMulUnfused(args) : multiply(args);
    const { backend } = args;
    const a = args.inputs.a as TensorInfo;
    const b = args.inputs.b as TensorInfo;
    const temps: TensorInfo[] = [];
    let a2 = a;
    let b2 = b;
    if (attrs.transposeA) {
      a2 = transpose(a, swapLastTwo(a.shape.length), backend);
      temps.push(a2);
    }
    if (attrs.transposeB) {
      b2 = transpose(b, swapLastTwo(b.shape.length), backend);
      temps.push(b2);
    }
    try {
      const unflagged = { inputs: { ...args.inputs, a: a2, b: b2 }, backend, attrs: { ...args.attrs, transposeA: false, transposeB: false } };
      return unfuse ? fusedMatMulUnfused(unflagged) : multiply(unflagged);
    } finally {
      release(backend, ...temps);
    }
  };
}

/**
 * out[s, ...] = Σ_{n : ids[n] = s} x[n, ...] as oneHot(ids)ᵀ · x (ids outside [0, numSegments) are
 * dropped, as in TensorFlow).
 */
function unsortedSegmentSum(args: KernelArgs): TensorInfo {
  const { backend } = args;
  const x = args.inputs.x as TensorInfo;
  const ids = args.inputs.segmentIds as TensorInfo;
  const { numSegments } = args.attrs as unknown as { numSegments: number };
  if (x.dtype !== 'float32') {
    throw new LipschitzError(
      'BACKEND_UNSUPPORTED',
      `UnsortedSegmentSum (wasm, @lipschitz/backends): dtype ${x.dtype} is not supported. Cast to float32 first.`,
    );
  }
  const n = ids.shape.reduce((p, d) => p * d, 1);
  const rest = x.shape.slice(ids.shape.length);
  const restSize = rest.reduce((p, d) => p * d, 1);
  const flatIds = run('Reshape', { x: ids }, backend, { shape: [n] });
  const idsInt = ids.dtype === 'int32' ? flatIds : run('Cast', { x: flatIds }, backend, { dtype: 'int32' });
  // wasm's OneHot writes int32 whatever dtype is asked for: make int32 and cast.
  const oneHotInt = run('OneHot', { indices: idsInt }, backend, { depth: numSegments, onValue: 1, offValue: 0, dtype: 'int32' });
  const oneHot = run('Cast', { x: oneHotInt }, backend, { dtype: 'float32' });
  release(backend, oneHotInt);
  const oneHotT = transpose(oneHot, [1, 0], backend);
  const x2 = run('Reshape', { x }, backend, { shape: [n, restSize] });
  const product = runStock('BatchMatMul', {
    inputs: { a: oneHotT, b: x2 },
    backend,
    attrs: { transposeA: false, transposeB: false },
  });
  const result = run('Reshape', { x: product }, backend, { shape: [numSegments, ...rest] });
  release(backend, flatIds, oneHot, oneHotT, x2, product);
  if (idsInt !== flatIds) release(backend, idsInt);
  return result;
}

/**
 * Copies the block `[begin, begin + size)` of a row-major array of shape `shape` into `out`: the
 * trailing axes taken whole are merged with the last partial one into contiguous runs, copied with
 * `set` (long runs) or element by element (short ones).
 */
function copyBlock(src: HeapArray, shape: readonly number[], begin: readonly number[], size: readonly number[], out: HeapArray): void {
  const rank = shape.length;
  if (rank === 0) {
    out[0] = src[0];
    return;
  }
  // Innermost axis `inner` such that axes (inner, rank) are whole: one run per index of axes [0, inner].
  let inner = rank - 1;
  let run = size[rank - 1];
  while (inner > 0 && size[inner] === shape[inner] && begin[inner] === 0) {
    inner--;
    run *= size[inner];
  }
  const strides = util.computeStrides(shape as number[]);
  const strideOf = (axis: number) => (axis < rank - 1 ? strides[axis] : 1);
  let base = 0;
  for (let a = 0; a < rank; a++) base += begin[a] * strideOf(a);
  const outer = size.slice(0, inner);
  const count = outer.reduce((p, d) => p * d, 1);
  const index = new Array<number>(inner).fill(0);
  let offset = base;
  let dst = 0;
  for (let r = 0; r < count; r++) {
    if (run >= 32) out.set(src.subarray(offset, offset + run), dst);
    else for (let k = 0; k < run; k++) out[dst + k] = src[offset + k];
    dst += run;
    // Advance the multi-index over the outer axes (last fastest).
    for (let a = inner - 1; a >= 0; a--) {
      index[a]++;
      offset += strideOf(a);
      if (index[a] < outer[a]) break;
      offset -= index[a] * strideOf(a);
      index[a] = 0;
    }
  }
}

/** `Slice` reading its input through a view of the wasm heap (no copy of the whole input). */
function sliceFromHeap(x: TensorInfo, begin: number[], size: number[], backend: unknown): TensorInfo {
  const wasm = backend as WasmBackendLike;
  const out = wasm.makeOutput(size, x.dtype);
  if (util.sizeFromShape(size) === 0) return out;
  // Views taken after the allocation (growing the heap detaches older views).
  copyBlock(wasm.typedArrayFromHeap(x) as HeapArray, x.shape, begin, size, wasm.typedArrayFromHeap(out) as HeapArray);
  return out;
}

const HEAP_DTYPES: ReadonlySet<string> = new Set(['float32', 'int32', 'bool']);

function slice(args: KernelArgs): TensorInfo {
  const x = args.inputs.x as TensorInfo;
  if (!HEAP_DTYPES.has(x.dtype)) return runStock('Slice', args);
  const { begin, size } = args.attrs as unknown as { begin: number | number[]; size?: number | number[] };
  const [b, s] = slice_util.parseSliceParams(x as never, begin, size);
  slice_util.assertParamsValid(x as never, b, s);
  return sliceFromHeap(x, b, s, args.backend);
}

function splitV(args: KernelArgs): TensorInfo[] {
  const x = args.inputs.x as TensorInfo;
  if (!HEAP_DTYPES.has(x.dtype)) return stockKernels().get('SplitV')?.kernelFunc(args) as unknown as TensorInfo[];
  const { numOrSizeSplits, axis } = args.attrs as unknown as { numOrSizeSplits: number | number[]; axis: number | number[] };
  const a = util.parseAxisParam(axis, x.shape)[0];
  const sizes = backend_util.prepareSplitSize(x as never, numOrSizeSplits, a);
  const begin = new Array<number>(x.shape.length).fill(0);
  return sizes.map((s) => {
    const size = [...x.shape];
    size[a] = s;
    const piece = sliceFromHeap(x, [...begin], size, args.backend);
    begin[a] += s;
    return piece;
  });
}

/** `StridedSlice`: the stride-1 (and identity) cases from a heap view; every other case the stock kernel. */
function stridedSlice(args: KernelArgs): TensorInfo {
  const x = args.inputs.x as TensorInfo;
  const attrs = args.attrs as unknown as {
    begin: number[];
    end: number[];
    strides: number[];
    beginMask: number;
    endMask: number;
    ellipsisMask: number;
    newAxisMask: number;
    shrinkAxisMask: number;
  };
  if (!HEAP_DTYPES.has(x.dtype)) return runStock('StridedSlice', args);
  const info = slice_util.sliceInfo(
    x.shape,
    attrs.begin,
    attrs.end,
    attrs.strides,
    attrs.beginMask,
    attrs.endMask,
    attrs.ellipsisMask,
    attrs.newAxisMask,
    attrs.shrinkAxisMask,
  );
  if (info.isIdentity || !(info.sliceDim0 || info.isSimpleSlice)) return runStock('StridedSlice', args);
  const size = slice_util.computeOutShape(info.begin, info.end, info.strides);
  const sliced = sliceFromHeap(x, info.begin, size, args.backend);
  const result = run('Reshape', { x: sliced }, args.backend, { shape: info.finalShape });
  release(args.backend, sliced);
  return result;
}

function mark(fn: (args: KernelArgs) => TensorInfo): KernelFunc {
  (fn as unknown as Record<symbol, boolean>)[OURS] = true;
  return fn as KernelFunc;
}

const implementations: Record<WasmTrainingKernelName, KernelFunc> = {
  Conv2DBackpropFilter: mark(conv2DBackpropFilter),
  Conv2DBackpropInput: mark(conv2DBackpropInput),
  BatchMatMul: mark(matMulWithoutFlags('BatchMatMul')),
  _FusedMatMul: mark(matMulWithoutFlags('_FusedMatMul')),
  UnsortedSegmentSum: mark(unsortedSegmentSum),
  Slice: mark(slice),
  SplitV: mark(splitV as unknown as (args: KernelArgs) => TensorInfo),
  StridedSlice: mark(stridedSlice),
};

function isOurs(config: KernelConfig | undefined): boolean {
  return config !== undefined && (config.kernelFunc as unknown as Record<symbol, boolean>)[OURS] === true;
}

/**
 * Registers, for the tfjs `wasm` backend, the kernels it needs to train the networks of this project
 * quickly ({@link WASM_TRAINING_KERNELS}), each built from wasm's own fast kernels (XNNPACK
 * convolution, transpose, pad, one-hot, matMul):
 *
 * - `Conv2DBackpropFilter` (missing in tfjs-backend-wasm 4.22):
 *   `dW = conv_{stride 1, dilation s}(transpose(x_pad, [C,H,W,B]), transpose(dy, [OH,OW,B,O]))`,
 *   transposed back to HWIO. Any padding ('same', 'valid', number, explicit), any stride, NHWC.
 * - `Conv2DBackpropInput`: `dx = conv_valid(pad(upsample_s(dy)), reverse_hw(W) with in/out swapped)`;
 *   exact for any stride (stride s upsamples dy with zeros first); falls back to the stock kernel for
 *   NCHW or paddings larger than the kernel.
 * - `BatchMatMul`, `_FusedMatMul`: flagged operands are transposed explicitly, then multiplied
 *   without flags (identical values, 12–30× faster on wasm).
 * - `UnsortedSegmentSum` (missing): `oneHot(ids)ᵀ · x`, so `tf.gather` has a gradient.
 * - `Slice`, `SplitV`, `StridedSlice` (stride 1): read through a view of the wasm heap instead of the
 *   stock kernels' copy of the whole input per slice (same values; other dtypes and strided cases fall
 *   back to the stock kernels).
 *
 * Idempotent. Call it after importing `@tensorflow/tfjs-backend-wasm` and before (or after)
 * `tf.setBackend('wasm')`; {@link prepareBackend} does both. Kernels return backend-owned outputs and
 * dispose every intermediate; they add no tensors to the engine.
 *
 * Reference: runtime.md (this project), and the transposed-convolution identities of
 * Dumoulin & Visin, "A guide to convolution arithmetic for deep learning" (2016).
 *
 * @param names the kernels to register (default: all of {@link WASM_TRAINING_KERNELS}).
 * @returns the names of the kernels registered by this call (empty when already registered).
 * @throws LipschitzError `BACKEND_UNSUPPORTED` when tfjs-backend-wasm's kernels are not registered
 *   (the package was not imported).
 * @example
 * ```ts
 * import '@tensorflow/tfjs-backend-wasm';
 * registerWasmTrainingKernels();
 * await tf.setBackend('wasm');
 * ```
 */
export function registerWasmTrainingKernels(names: readonly WasmTrainingKernelName[] = WASM_TRAINING_KERNELS): WasmTrainingKernelName[] {
  // Fails early with a clear message when the wasm backend's kernels are absent.
  for (const name of ['Conv2D', 'Transpose', 'BatchMatMul', '_FusedMatMul', 'PadV2', 'Reverse', 'Slice', 'OneHot', 'Concat']) {
    wasmKernel(name);
  }
  const stock = stockKernels();
  const registered: WasmTrainingKernelName[] = [];
  for (const name of names) {
    const existing = getKernel(name, 'wasm');
    if (isOurs(existing)) continue;
    if (existing !== undefined) {
      stock.set(name, existing);
      unregisterKernel(name, 'wasm');
    }
    registerKernel({
      kernelName: name,
      backendName: 'wasm',
      kernelFunc: implementations[name],
      // The stock kernel's setup (which binds its wasm function) must still run for the fallback.
      setupFunc: existing?.setupFunc,
    });
    registered.push(name);
  }
  return registered;
}

/**
 * Restores the stock tfjs-backend-wasm kernels replaced by {@link registerWasmTrainingKernels}, and
 * removes the ones it added (all of {@link WASM_TRAINING_KERNELS}, or only `names`). For measuring the
 * stock kernels (benchmarks) and for tests.
 *
 * @example
 * ```ts
 * unregisterWasmTrainingKernels(); // time the stock matMul ...
 * registerWasmTrainingKernels();
 * ```
 */
export function unregisterWasmTrainingKernels(names: readonly WasmTrainingKernelName[] = WASM_TRAINING_KERNELS): void {
  const stock = stockKernels();
  for (const name of names) {
    const existing = getKernel(name, 'wasm');
    if (!isOurs(existing)) continue;
    unregisterKernel(name, 'wasm');
    const original = stock.get(name);
    if (original !== undefined) registerKernel(original);
  }
}
