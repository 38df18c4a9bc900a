// What Stryker runs for each mutant: the unit set of vitest.config.ts (test/unit), and nothing else.
import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

export default mergeConfig(base, defineConfig({ test: { project: 'unit' } }));
