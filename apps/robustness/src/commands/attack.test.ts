/**
 * What is tested: the median perturbation `robustness attack` reports for the decision attacks — misclassified images
 * left out, an image without a misclassified point counting as +∞ (so the median is an upper bound on the median
 * minimal adversarial distance), the mean of the two middle values for an even count, `null` for +∞.
 * The attacks themselves: packages/certify; through the CLI: test/reproduce.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { medianPerturbation } from './attack';

const of = (norms: number[]) => medianPerturbation({ perturbationNorms: Float64Array.from(norms) });

describe('medianPerturbation', () => {
  it('is the median over the correctly classified images, +∞ for those without a misclassified point', () => {
    // 0 = misclassified clean (not attacked), NaN = nothing found
    expect(of([0, 1.5, 0.5, Number.NaN, 2])).toEqual({ median: (1.5 + 2) / 2, found: 3, attacked: 4 });
    expect(of([3, 1, 2])).toEqual({ median: 2, found: 3, attacked: 3 });
    expect(of([1, Number.NaN, Number.NaN])).toEqual({ median: null, found: 1, attacked: 3 });
    expect(of([1, 2, Number.NaN, Number.NaN])).toEqual({ median: null, found: 2, attacked: 4 });
    expect(of([0, 0])).toEqual({ median: null, found: 0, attacked: 0 });
    expect(of([])).toEqual({ median: null, found: 0, attacked: 0 });
  });
});
