import { LipschitzError } from '@lipschitz/core';
import type { ValidatedLayer, ValidatedNetwork } from '@lipschitz/model-format';

/**
 * Per-example quantities of one conv2d/dense layer k from {@link HostForward64.run}, each a
 * `Float64Array(count)` of values computed in float64 on the host (ẑ_k the host activations entering
 * the layer, W its weight as an operator, b its bias; sums over the layer's outputs o):
 */
export interface HostLinearStats {
  /** Layer index in the network. */
  index: number;
  /** `‖Ŝ‖₂²` with `Ŝ_o = (|W||ẑ_k|)_o + |b_o|` (every term ≥ 0). */
  absSquares: Float64Array;
  /** `max_o Ŝ_o`. */
  absMax: Float64Array;
  /** `‖ŝ‖₂²` with `ŝ = fl64(W ẑ_k + b)`, the host pre-activations. */
  preSquares: Float64Array;
  /** `‖ẑ_k‖₂²`. */
  inputSquares: Float64Array;
}

/** Result of {@link HostForward64.run}. */
export interface HostForwardResult {
  /** The host float64 logits `[count, classes]` row-major. */
  logits: Float64Array;
  /** Number of outputs per example. */
  classes: number;
  /** One entry per conv2d/dense layer, in order. */
  linear: HostLinearStats[];
}

/** A validated network prepared for {@link hostForward64}'s float64 forward pass. */
export interface HostForward64 {
  /**
   * Runs `count` examples (`x` row-major `[count, ...inputShape]`, read as given) through the network
   * in float64 and returns the logits and, per linear layer, the sums of {@link HostLinearStats}.
   */
  run(x: ArrayLike<number>, count: number): HostForwardResult;
}

type HostStep =
  | { kind: 'linear'; apply: (input: Float64Array, out: Float64Array, absOut: Float64Array) => void; outSize: number; index: number }
  | { kind: 'map'; apply: (input: Float64Array) => Float64Array };

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * `out[o0 + o] = bias[o] + Σ_j patch[j]·rows[o·P + j]` and the same with |patch|, |rows|, |bias| into
 * `absOut`, for o < count (two rows per pass, float64 accumulators in registers).
 */
function dotRows(
  patch: Float64Array,
  absPatch: Float64Array,
  size: number,
  rows: Float64Array,
  absRows: Float64Array,
  bias: Float64Array,
  out: Float64Array,
  absOut: Float64Array,
  o0: number,
  count: number,
): void {
  let o = 0;
  for (; o + 1 < count; o += 2) {
    const r0 = o * size;
    const r1 = r0 + size;
    let s0 = bias[o];
    let s1 = bias[o + 1];
    let a0 = Math.abs(s0);
    let a1 = Math.abs(s1);
    for (let j = 0; j < size; j++) {
      const v = patch[j];
      const av = absPatch[j];
      s0 += v * rows[r0 + j];
      s1 += v * rows[r1 + j];
      a0 += av * absRows[r0 + j];
      a1 += av * absRows[r1 + j];
    }
    out[o0 + o] = s0;
    out[o0 + o + 1] = s1;
    absOut[o0 + o] = a0;
    absOut[o0 + o + 1] = a1;
  }
  if (o < count) {
    const r0 = o * size;
    let s0 = bias[o];
    let a0 = Math.abs(s0);
    for (let j = 0; j < size; j++) {
      s0 += patch[j] * rows[r0 + j];
      a0 += absPatch[j] * absRows[r0 + j];
    }
    out[o0 + o] = s0;
    absOut[o0 + o] = a0;
  }
}

/** `[..., count]`-last weights (row-major, `inner` rows) as `count` contiguous rows of length `inner`, and their |·|. */
function transposed(values: Float32Array, inner: number, count: number): { rows: Float64Array; absRows: Float64Array } {
  const rows = new Float64Array(inner * count);
  for (let j = 0; j < inner; j++) for (let o = 0; o < count; o++) rows[o * inner + j] = values[j * count + o];
  return { rows, absRows: rows.map(Math.abs) };
}

function denseStep(row: ValidatedLayer): HostStep {
  const w = row.weight as { shape: number[]; values: Float32Array };
  const [inputs, outputs] = w.shape;
  const { rows, absRows } = transposed(w.values, inputs, outputs);
  const bias = row.bias ? Float64Array.from(row.bias.values) : new Float64Array(outputs);
  const absPatch = new Float64Array(inputs);
  return {
    kind: 'linear',
    index: row.index,
    outSize: outputs,
    apply(input, out, absOut) {
      for (let i = 0; i < inputs; i++) absPatch[i] = Math.abs(input[i]);
      dotRows(input, absPatch, inputs, rows, absRows, bias, out, absOut, 0, outputs);
    },
  };
}

function convStep(row: ValidatedLayer): HostStep {
  const layer = row.layer as Extract<ValidatedLayer['layer'], { type: 'conv2d' }>;
  const k = row.weight as { shape: number[]; values: Float32Array };
  const [kh, kw, cin, cout] = k.shape;
  const [h, w] = row.inputShape;
  const [oh, ow] = row.outputShape;
  const size = kh * kw * cin; // one patch: (tap, input channel), HWIO order
  const { rows, absRows } = transposed(k.values, size, cout);
  const bias = row.bias ? Float64Array.from(row.bias.values) : new Float64Array(cout);
  const patch = new Float64Array(size);
  const absPatch = new Float64Array(size);
  // Output (y, x) reads input (y + a − top, x + b − left): circular wraps ⌊k/2⌋ before (blockconv's
  // circularPadding), zero-same is TF 'same' at stride 1 (⌊(k − 1)/2⌋ before), valid reads from 0.
  const circular = layer.padding === 'circular';
  const top = circular ? Math.floor(kh / 2) : layer.padding === 'zero-same' ? Math.floor((kh - 1) / 2) : 0;
  const left = circular ? Math.floor(kw / 2) : layer.padding === 'zero-same' ? Math.floor((kw - 1) / 2) : 0;
  return {
    kind: 'linear',
    index: row.index,
    outSize: oh * ow * cout,
    apply(input, out, absOut) {
      for (let y = 0; y < oh; y++) {
        for (let x = 0; x < ow; x++) {
          for (let a = 0; a < kh; a++) {
            let r = y + a - top;
            if (circular) r = ((r % h) + h) % h;
            for (let b = 0; b < kw; b++) {
              let q = x + b - left;
              if (circular) q = ((q % w) + w) % w;
              const p0 = (a * kw + b) * cin;
              if (r < 0 || r >= h || q < 0 || q >= w) {
                patch.fill(0, p0, p0 + cin); // zero padding
                absPatch.fill(0, p0, p0 + cin);
                continue;
              }
              const i0 = (r * w + q) * cin;
              for (let i = 0; i < cin; i++) {
                const v = input[i0 + i];
                patch[p0 + i] = v;
                absPatch[p0 + i] = Math.abs(v);
              }
            }
          }
          dotRows(patch, absPatch, size, rows, absRows, bias, out, absOut, (y * ow + x) * cout, cout);
        }
      }
    },
  };
}

function mapStep(row: ValidatedLayer): HostStep {
  const { layer } = row;
  const shape = row.inputShape;
  const c = shape[shape.length - 1];
  switch (layer.type) {
    case 'invertibleDownsample': {
      const f = layer.factor;
      const [h, w] = shape;
      return {
        kind: 'map',
        apply(input) {
          // out[y, x, (i·f + j)·C + ch] = in[y·f + i, x·f + j, ch] (blockconv's invertibleDownsample)
          const out = new Float64Array(input.length);
          for (let r = 0; r < h; r++) {
            for (let q = 0; q < w; q++) {
              const o0 = ((Math.floor(r / f) * (w / f) + Math.floor(q / f)) * f * f + (r % f) * f + (q % f)) * c;
              const i0 = (r * w + q) * c;
              for (let ch = 0; ch < c; ch++) out[o0 + ch] = input[i0 + ch];
            }
          }
          return out;
        },
      };
    }
    case 'flatten':
      return { kind: 'map', apply: (input) => input };
    case 'relu':
      return { kind: 'map', apply: (input) => input.map((v) => Math.max(v, 0)) };
    case 'maxMin': {
      const half = c / 2;
      return {
        kind: 'map',
        apply(input) {
          // concat[max(a, b), min(a, b)] of the halves of the last axis (model-format's maxMinActivation)
          const out = new Float64Array(input.length);
          for (let p = 0; p < input.length; p += c) {
            for (let i = 0; i < half; i++) {
              const a = input[p + i];
              const b = input[p + half + i];
              out[p + i] = Math.max(a, b);
              out[p + half + i] = Math.min(a, b);
            }
          }
          return out;
        },
      };
    }
    case 'groupSort': {
      const g = layer.groupSize;
      return {
        kind: 'map',
        apply(input) {
          const out = Float64Array.from(input);
          for (let p = 0; p < out.length; p += g) out.subarray(p, p + g).sort((u, v) => v - u);
          return out;
        },
      };
    }
    default:
      throw new LipschitzError('UNSUPPORTED_CONFIGURATION', `hostForward64: layer ${row.index} has type ${layer.type}, which has no float64 forward. Validate the layers with validateExportedLayers first.`);
  }
}

/**
 * The float64 host forward pass of a validated `lipschitz-model/1` network (`validateExportedLayers`
 * of `@lipschitz/model-format`), with, per conv2d/dense layer, the sums the float-sound certificate
 * needs ({@link HostLinearStats}). Same layer semantics as model-format's `exportedForward`: conv2d
 * HWIO at stride 1 (`circular` wraps ⌊k/2⌋ rows/cols before, `zero-same` is TF 'same', `valid`),
 * `dense` `x·W + b`, `invertibleDownsample` (NHWC space-to-depth, channel `(i·f + j)·C + c`),
 * `flatten`, `maxMin` (`concat[max(a, b), min(a, b)]` of the halves of the last axis), `groupSort`
 * (each group of consecutive channels sorted descending), `relu`.
 *
 * **Accuracy.** Every output of a linear layer is a float64 sum of its products and bias, so
 * `|fl64(Wẑ + b) − (Wẑ + b)| ≤ γ⁶⁴_n (|W||ẑ| + |b|) + n·2⁻¹⁰⁷⁵` componentwise (Higham, Lemma 3.1 with
 * u = 2⁻⁵³, plus one underflowed product per term; the products of float32 weights and float64
 * activations, the additions and the selections are otherwise IEEE double operations of JavaScript);
 * the selecting layers are exact. `float32ErrorBound` propagates this into the certificate.
 *
 * Cost: per output, one float64 dot product with the weights for `W ẑ` and one with |weights| for
 * `|W||ẑ|` (convolutions gather each patch first); the weights are copied once, transposed, to float64.
 *
 * Ownership: reads `network`; returns a runner holding float64 copies of the weights.
 * @example
 * ```ts
 * const host = hostForward64(validateExportedLayers(layers, inputShape));
 * const { logits } = host.run(pixels, 10); // Float64Array [10, C]
 * ```
 * @see Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., SIAM 2002, §3.1.
 */
export function hostForward64(network: ValidatedNetwork): HostForward64 {
  const steps = network.layers.map((row) => (row.type === 'dense' ? denseStep(row) : row.type === 'conv2d' ? convStep(row) : mapStep(row)));
  const inputSize = sizeOf(network.inputShape);
  const classes = sizeOf(network.outputShape);
  return {
    run(x, count) {
      const linear: HostLinearStats[] = [];
      for (const step of steps) {
        if (step.kind === 'linear') {
          linear.push({
            index: step.index,
            absSquares: new Float64Array(count),
            absMax: new Float64Array(count),
            preSquares: new Float64Array(count),
            inputSquares: new Float64Array(count),
          });
        }
      }
      const logits = new Float64Array(count * classes);
      const buffers = steps.map((s) => (s.kind === 'linear' ? { out: new Float64Array(s.outSize), abs: new Float64Array(s.outSize) } : null));
      for (let e = 0; e < count; e++) {
        let h: Float64Array = new Float64Array(inputSize);
        for (let i = 0; i < inputSize; i++) h[i] = x[e * inputSize + i];
        let slot = 0;
        steps.forEach((step, k) => {
          if (step.kind === 'map') {
            h = step.apply(h);
            return;
          }
          const { out, abs } = buffers[k] as { out: Float64Array; abs: Float64Array };
          const stats = linear[slot++];
          let inSq = 0;
          for (let i = 0; i < h.length; i++) inSq += h[i] * h[i];
          step.apply(h, out, abs);
          let absSq = 0;
          let absMax = 0;
          let preSq = 0;
          for (let o = 0; o < out.length; o++) {
            absSq += abs[o] * abs[o];
            if (!(abs[o] <= absMax)) absMax = abs[o]; // NaN propagates
            preSq += out[o] * out[o];
          }
          stats.inputSquares[e] = inSq;
          stats.absSquares[e] = absSq;
          stats.absMax[e] = absMax;
          stats.preSquares[e] = preSq;
          h = Float64Array.from(out);
        });
        logits.set(h, e * classes);
      }
      return { logits, classes, linear };
    },
  };
}
