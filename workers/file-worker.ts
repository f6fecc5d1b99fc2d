// `npm run worker`: the file-parsing worker of the scaled mode (REDIS_URL and DATABASE_URL set).
// Stops gracefully on SIGTERM/SIGINT: running parses finish, then connections close.
import { ConfigError, loadConfig } from '../src/config/config';
import { loadFileWorkerSettings, startFileWorker } from '../src/files/file-worker-app';
import { createLogger } from '../src/shared/logger';
import { createRedactor } from '../src/shared/redactor';

const SHUTDOWN_GRACE_MS = 60_000;

async function main() {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, { component: 'file-worker' }, createRedactor(config.secrets).redact);
  // Keep running through a stray rejection (a Redis hiccup in a callback); log it loudly instead.
  process.on('unhandledRejection', (reason) => logger.error('unhandled rejection', { err: reason }));

  const worker = await startFileWorker(config, loadFileWorkerSettings(), logger);

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info('file worker stopping', { signal });
    const force = setTimeout(() => {
      logger.error('file worker did not stop in time; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    worker.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error('file worker stopped with an error', { err });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof ConfigError ? err.message : (err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
