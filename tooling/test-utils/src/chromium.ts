import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/**
 * Flags that give headless Debian Chromium a WebGPU (and WebGL) adapter on a machine without a GPU
 * (SwiftShader, emulated) and keep it off the network (runtime.md).
 */
export const HEADLESS_CHROMIUM_FLAGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-webgpu-adapter=swiftshader',
  '--use-angle=swiftshader',
];

/** Debian's chromium (`.ci/run` installs it), or `CHROMIUM_PATH`. */
export function chromiumPath(): string {
  return process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
}

/**
 * Launches headless Chromium with {@link HEADLESS_CHROMIUM_FLAGS} through playwright-core. Fails (never
 * skips) with what to install when Chromium is missing.
 */
export async function launchHeadlessChromium(what: string): Promise<Browser> {
  const path = chromiumPath();
  if (!existsSync(path)) {
    throw new Error(`${what} needs Chromium at ${path}: apt-get install -y chromium (or set CHROMIUM_PATH).`);
  }
  return chromium.launch({ executablePath: path, args: HEADLESS_CHROMIUM_FLAGS });
}
