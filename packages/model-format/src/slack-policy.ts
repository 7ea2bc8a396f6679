/**
 * The slack policy of every Lipschitz bound in this project — the one place it is defined.
 *
 * A certificate needs an upper bound L on the ℓ2 Lipschitz constant of the network **as it is
 * evaluated**. Two roundings separate the exact per-layer norms from that:
 *
 * 1. **Host rounding** ({@link HOST_NORM_SLACK} = 1e-12, relative, per norm): each linear layer's norm
 *    is computed on the host in float64 (an SVD of the weight, or an FFT and one small SVD per
 *    frequency for a convolution) from the stored float32 weights. For the sizes the file limits
 *    allow, the relative error of these float64 computations is a few 1e-15 … 1e-13; 1e-12 covers it,
 *    so `‖A‖·(1 + 1e-12)` bounds the operator defined by the float32 weights. A module's
 *    `lipschitzUpperBound()` (a layer's or a `Sequential`'s) is the product of these over its exported
 *    layers, the `lipschitzUpperBound` of `networkLipschitzUpperBound`.
 * 2. **Float32 evaluation** ({@link FLOAT32_SLACK_PER_LINEAR_LAYER} = 1e-5, relative, per linear
 *    layer): the network runs in float32. A float32 product is exact for slightly perturbed weights,
 *    `fl(Wx) = (W + ΔW)x` with `|ΔW| ≤ γ_n|W|` in the worst case and about `√n·2⁻²⁴|W|` in practice
 *    (Higham & Mary 2019); for n ≤ 4096 that is ≤ 4e-6 < 1e-5. **Assumption** (not a proof): per
 *    layer, float32 evaluation behaves like the exact map with a weight perturbation of relative ℓ2
 *    size ≤ 1e-5. It does not cover bias size, activation magnitude or inputs outside the stated
 *    range; a float-sound certificate subtracts a bound δ(x) on the float32 error from the margin
 *    instead (see `certifyExportedModel`'s `floatErrorBound`).
 *
 * `networkLipschitzUpperBound` (`moduleLipschitzBound` for a live module) computes both bounds:
 * `lipschitzUpperBound = Π_l ‖A_l‖ · (1 + HOST_NORM_SLACK)^D` (the exact network's, D = conv2d and dense
 * layers) and `assumedFloat32Bound = lipschitzUpperBound · (1 + FLOAT32_SLACK_PER_LINEAR_LAYER)^D` (the old
 * rule's, resting on the assumption above). The default, float-sound certificate (`floatErrorModel: 'rigorous'`)
 * uses `lipschitzUpperBound` and accounts for float32 rounding by a proven error bound instead; `exportModel`
 * writes it into the file's `lipschitzUpperBound` (one name, one quantity), and training-time evaluation,
 * `certify`, `certifyModel`, `certifyExportedModel`, the CLI and the web page all report it. The old rule
 * (`'assume-relative-1e-5'`) uses `assumedFloat32Bound`.
 */
export const HOST_NORM_SLACK = 1e-12;

/**
 * Relative slack per conv2d/dense layer for float32 evaluation (1e-5), an assumption; see {@link HOST_NORM_SLACK}
 * for the whole policy.
 */
export const FLOAT32_SLACK_PER_LINEAR_LAYER = 1e-5;
