import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Extracts the first ```ts block under a heading that contains "Quickstart" from a README, so the
 * documented code is the tested code.
 */
export function quickstartFromReadme(readmePath: string): string {
  const text = readFileSync(readmePath, 'utf8');
  const heading = text.search(/^#+ .*quickstart/im);
  if (heading < 0) throw new Error(`${readmePath}: no "Quickstart" heading`);
  const match = /```ts\n([\s\S]*?)```/.exec(text.slice(heading));
  if (!match) throw new Error(`${readmePath}: no \`\`\`ts block after the Quickstart heading`);
  return match[1];
}

/**
 * Runs a README's quickstart as a module: writes it next to the package's sources (so its imports
 * resolve like a user's would through the workspace) and imports it. The quickstart may `export`
 * values for the test to check. Returns the module's exports.
 */
export async function runReadmeQuickstart(readmePath: string): Promise<Record<string, unknown>> {
  const code = quickstartFromReadme(readmePath);
  const dir = join(dirname(readmePath), 'src', '.quickstart');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `quickstart-${process.pid}-${Date.now()}.ts`);
  writeFileSync(file, code);
  try {
    return (await import(/* @vite-ignore */ file)) as Record<string, unknown>;
  } finally {
    rmSync(file, { force: true });
  }
}
