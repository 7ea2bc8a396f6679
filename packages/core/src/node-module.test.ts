import { expect, it } from 'vitest';
import { importNodeModule } from './node-module';

it('imports a Node built-in, and says what to do when the module is missing', async () => {
  const path = await importNodeModule<typeof import('node:path')>('demo', 'node:path', 'Use the browser API.');
  expect(path.join('a', 'b')).toBe('a/b');
  await expect(importNodeModule('demo', 'node:no-such-module', 'Use the browser API.')).rejects.toThrow(
    /^demo: node:no-such-module is not available \(this needs Node\.js\)\. Use the browser API\.$/,
  );
});
