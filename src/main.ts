import { createApp } from './app';
import { ConfigError, loadConfig } from './config/config';

async function main() {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  // Signal handlers first: a SIGTERM during start-up (or right after "listening") still shuts
  // down cleanly instead of killing the process with the default action.
  let stopping = false;
  const starting = createApp(config);
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    const app = await starting.catch(() => process.exit(1));
    app.logger.info('shutting down', { signal });
    // Past the turns' grace period and a little more for closing connections, exit anyway.
    const timer = setTimeout(() => process.exit(1), app.config.limits.shutdownGraceMs + 10_000);
    timer.unref();
    await app.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  const app = await starting;
  // A stray rejection (say, in a Redis callback during an outage) is logged, not a crash.
  process.on('unhandledRejection', (reason) => app.logger.error('unhandled rejection', { err: reason }));
}

main().catch((err) => {
  console.error('failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
