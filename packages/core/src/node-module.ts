import { LipschitzError } from './errors';

/**
 * Imports a Node.js built-in (`node:fs/promises`, `node:path`, ...) on demand, in a way browser bundlers
 * leave alone: the specifier is a runtime value, so esbuild, Vite and webpack neither try to resolve nor to
 * bundle it. Packages use it for their Node-only file I/O so that the rest of the package bundles for the
 * browser.
 *
 * @param fn the public function that needs the module (for the error message).
 * @param specifier e.g. `'node:fs/promises'`.
 * @param hint what to do instead outside Node (ends the error message).
 * @throws LipschitzError `UNSUPPORTED_CONFIGURATION` when the module cannot be loaded (not Node).
 * @example
 * ```ts
 * const fs = await importNodeModule<typeof import('node:fs/promises')>('saveModel', 'node:fs/promises', 'Use serializeModel in a browser.');
 * ```
 */
export async function importNodeModule<T>(fn: string, specifier: string, hint: string): Promise<T> {
  const name = specifier;
  try {
    return (await import(/* @vite-ignore */ /* webpackIgnore: true */ name)) as T;
  } catch (cause) {
    throw new LipschitzError('UNSUPPORTED_CONFIGURATION', `${fn}: ${specifier} is not available (this needs Node.js). ${hint}`, { cause });
  }
}
