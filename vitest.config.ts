import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // The k6 scripts' modules, for loadtest/k6/k6-scripts.test.ts (nothing else imports them).
    alias: [
      { find: /^k6$/, replacement: new URL('./loadtest/k6/double/k6.ts', import.meta.url).pathname },
      ...['http', 'crypto', 'execution', 'metrics'].map((m) => ({
        find: `k6/${m}`,
        replacement: new URL(`./loadtest/k6/double/${m}.ts`, import.meta.url).pathname,
      })),
    ],
  },
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
