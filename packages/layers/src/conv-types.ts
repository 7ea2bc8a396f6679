/**
 * The convolution types of the model builders (`smallConvNet`, `largeConvNet`, `fc3`, `dcganCritic`):
 * the one list of the project; the apps' choices (`--conv`, critics) derive from it. `'plain'` =
 * unconstrained layers (baselines).
 *
 * @example
 * ```ts
 * CONV_TYPES.includes(flag as ConvType); // validate a command-line choice
 * ```
 */
export const CONV_TYPES = ['bcop', 'rko', 'ossn', 'svcm', 'cayley', 'plain'] as const;

/** Convolution types of the model builders; `'plain'` = unconstrained layers (baselines). */
export type ConvType = (typeof CONV_TYPES)[number];

/** The Lipschitz convolution types: every one of {@link CONV_TYPES} but `'plain'`. */
export const LIPSCHITZ_CONV_TYPES: readonly Exclude<ConvType, 'plain'>[] = CONV_TYPES.filter(
  (c): c is Exclude<ConvType, 'plain'> => c !== 'plain',
);
