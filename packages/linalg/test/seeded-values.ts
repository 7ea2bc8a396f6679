/** Deterministic values uniform in [−scale, scale) from a linear congruential generator (host float64 test fixtures). */
export function seededValues(n: number, seed: number, scale: number): Float64Array {
  const out = new Float64Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = ((s / 2147483648) * 2 - 1) * scale;
  }
  return out;
}
