import { defineConfig } from 'vitest/config';

// Projects: pure unit tests; the database matrix (every file under tests/matrix runs once on
// PostgreSQL and once on embedded PGlite); the scaled suite (PostgreSQL + Redis, several nodes); and
// the web room in a browser.
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    globalSetup: ['tests/helpers/global-setup.ts'],
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'unit', include: ['tests/unit/**/*.test.ts'] } },
      {
        extends: true,
        test: { name: 'postgres', include: ['tests/matrix/**/*.test.ts'], env: { TEST_DB: 'postgres' } },
      },
      {
        extends: true,
        test: { name: 'pglite', include: ['tests/matrix/**/*.test.ts'], env: { TEST_DB: 'pglite' } },
      },
      {
        extends: true,
        test: { name: 'scaled', include: ['tests/scaled/**/*.test.ts', 'tests/system/**/*.test.ts', 'tests/faults/**/*.test.ts'], env: { TEST_DB: 'postgres' } },
      },
      {
        // The web room in headless Chromium (playwright-core, /usr/bin/chromium), against an
        // embedded server; the web build is made first when missing or stale.
        extends: true,
        test: {
          name: 'browser',
          include: ['tests/browser/**/*.test.ts'],
          env: { TEST_DB: 'pglite' },
          globalSetup: ['tests/helpers/global-setup.ts', 'tests/browser/web-build.ts'],
          testTimeout: 90_000,
        },
      },
    ],
  },
});
