import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'loadtest/**/*.test.ts'],
    // One embedded PostgreSQL for the whole run; each test file gets a fresh database cloned
    // from a migrated template (test/support/database.ts), so files run in parallel.
    globalSetup: ['test/global-setup.ts'],
    // uWS is a native addon: forks give each file its own process and event loop.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 90_000,
    // Unhandled errors and rejections fail the run (vitest's default; never turned off here).
  },
});
