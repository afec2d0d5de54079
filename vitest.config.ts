import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Builds the test addon (native test hooks) when its sources changed.
    globalSetup: ['test/global_setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Native code shares one process-wide thread pool; forks keep a crash in one file
    // from taking the others down and give each file a clean process.
    pool: 'forks',
    reporters: ['default'],
  },
});
