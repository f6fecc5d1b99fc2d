import { defineConfig } from 'vitest/config';

// Three projects: pure unit tests; the database matrix (every file under tests/matrix runs once on
// PostgreSQL and once on embedded PGlite); and the scaled suite (PostgreSQL + Redis, several nodes).
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
    ],
  },
});
