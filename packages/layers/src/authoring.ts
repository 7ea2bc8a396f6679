/**
 * `@lipschitz/layers/authoring`: the kit for writing a layer (in this package or outside it). READ THIS
 * before writing one; users of the layers need only `@lipschitz/layers`.
 *
 * How to write a convolution layer (e.g. `ossnConv2d`, `svcmConv2d`, `cayleyConv2d`):
 *
 * 1. Options: use (or extend) {@link ConvLayerOptions}
 *    `{ inChannels, outChannels, kernelSize, stride?, bias?, seed?, inputSize? }` and check them with
 *    `validateConvOptions('ossnConv2d', options)` (throws `INVALID_ARGUMENT` with the right message).
 * 2. Write the **stride-1** layer as a subclass of {@link CircularConvLayer}: create your variables
 *    with `this.addVariable(initialTensor)` (or `this.addState(tensor)` for non-trainable state such as
 *    a power-iteration vector, saved by `saveModel` but not trained) and implement
 *    `computeKernels()`, which returns `[kernelHWIO]` or `[kernelHWIO, bias]` computed from the
 *    variables with differentiable tfjs ops (it runs inside `tf.tidy`). The base class provides
 *    `apply` (circular padding as the reference, kernel caching while frozen), `freeze`/`unfreeze`,
 *    the sound host bound `lipschitzUpperBound` (exact σ_max of the circular conv by FFT at the input
 *    size), `exportLayers`, `outputShape`, `dispose`. Override `afterStep(step)` if your layer needs it.
 * 3. Strides: build your factory with {@link withStride}, which applies the reference's
 *    `LipschitzConv2d` rule (kernelSize % stride == 0, invertible downsampling by `stride`, then your
 *    stride-1 layer with `stride²·inChannels` input channels and kernel `kernelSize / stride`):
 *    ```ts
 *    export function ossnConv2d(options: ConvLayerOptions): LayerModule {
 *      return withStride('ossnConv2d', options, (inner) => new OssnConv2d(inner));
 *    }
 *    ```
 *    `inner` is the options of the stride-1 layer (`stride: 1`, `inputSize` already divided).
 *    Give the stride-1 layer `config = { type: 'ossnConv2d', options: inner }` (the base class does it
 *    from the constructor arguments), so `saveModel`/`loadModel` can rebuild it.
 * 4. Initial values: use {@link SeededRandom} from `@lipschitz/core` with `options.seed` (default 0),
 *    and the host helpers {@link orthogonalMatrix} / {@link orthogonalTensor} / {@link uniformTensor} here.
 *
 * Every module of this package implements {@link LayerModule} = `LipschitzModule` (core) + `config`
 * (JSON that rebuilds the module, see `layerFromConfig`) + `variables` (everything `saveModel` writes).
 */

export type { LayerConfig, LayerModule } from './layer-base';
export { LayerBase } from './layer-base';
export { StatelessLayer } from './stateless-layer';
export { CircularConvLayer } from './circular-conv-layer';
export { StridedConv, withStride } from './strided-conv';
export { type ConvLayerOptions, assertNhwc, validateConvOptions } from './conv-options';
export { HOST_BOUND_SLACK, circularConvNorm } from './host-bound';
export { orthogonalMatrix, orthogonalTensor, uniformTensor } from './initializers';
export { type KernelCache, OrthogonalWeight, PROJECTED_RETRACTION_STEPS } from './orthogonal-weight';
