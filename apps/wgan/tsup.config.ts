import { cliBundleConfig } from '@lipschitz/tooling/tsup';
import { defineConfig } from 'tsup';

export default defineConfig(cliBundleConfig(import.meta.dirname));
