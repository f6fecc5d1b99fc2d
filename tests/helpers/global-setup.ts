import { execFileSync } from 'node:child_process';
import net from 'node:net';
import type { TestProject } from 'vitest/node';
import { REPO_ROOT } from './process';
import { ADMIN_DATABASE_URL, TEST_REDIS_URL } from './services';

function reachable(urlText: string, defaultPort: number): Promise<boolean> {
  const url = new URL(urlText);
  return new Promise((resolve) => {
    const socket = net.connect({ host: url.hostname || '127.0.0.1', port: Number(url.port) || defaultPort });
    socket.setTimeout(2000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * The integration suites talk to real PostgreSQL and Redis. Missing services fail the run at once
 * with a message saying which, instead of a timeout in every test.
 */
export default async function setup(project?: TestProject) {
  const [pgOk, redisOk] = await Promise.all([reachable(ADMIN_DATABASE_URL, 5432), reachable(TEST_REDIS_URL, 6379)]);
  const missing = [!pgOk && `PostgreSQL at ${ADMIN_DATABASE_URL}`, !redisOk && `Redis at ${TEST_REDIS_URL}`].filter(Boolean);
  if (missing.length) {
    throw new Error(
      `The test suite needs ${missing.join(' and ')}. Start them (see README, "Tests") or point DATABASE_URL / REDIS_URL at them.`,
    );
  }
  // The system suite starts the compiled server (`npm start`, the image's `node dist/src/main.js`):
  // build it once here, so that parallel test files never compile into dist/ at the same time
  // (their own `npm start` then finds nothing to emit).
  if (project?.name === 'scaled') execFileSync('npm', ['run', '-s', 'build:server'], { cwd: REPO_ROOT, stdio: 'inherit' });
}
