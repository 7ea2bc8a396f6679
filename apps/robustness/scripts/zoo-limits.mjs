// The zoo's size limits, read by scripts/make-zoo-model.mjs (which refuses a larger file) and test/reproduce.test.ts
// (which checks every shipped file): Small networks weigh ~0.9–1.1 MiB, MNIST-Large (its 3136×512 dense layer)
// ~10 MiB, FC-3 (2.9 M dense weights) ~15 MiB (README, "Model zoo").

/**
 * The largest file, in MiB, the zoo keeps for the model `name`, and what kind of model that limit is for:
 * 12 for `-large-` models, 16 for `-fc3-` models, 1.2 for every other file.
 * @param {string} name a zoo name, e.g. `mnist-large-bcop-cosine`
 * @returns {{ limitMiB: number, kind: string }}
 */
export function zooSizeLimit(name) {
  if (name.includes('-large-')) return { limitMiB: 12, kind: 'Large models' };
  if (name.includes('-fc3-')) return { limitMiB: 16, kind: 'FC-3 models' };
  return { limitMiB: 1.2, kind: 'other files' };
}
