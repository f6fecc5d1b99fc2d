import { loadConfig } from '../../../src/config/config';
import { loadFileWorkerSettings, startFileWorker } from '../../../src/files/file-worker-app';
import { createLogger } from '../../../src/shared/logger';
import { TEST_REDIS_URL, uniqueRedisPrefix } from '../../helpers/services';
import { startTestApp, TEST_JWT_SECRET } from '../../helpers/test-app';
import { UPLOAD_ENV, uploadSuite } from '../../helpers/upload-suite';

// Scaled mode: the server only enqueues on BullMQ; a separate worker parses and reports through Redis.
uploadSuite('scaled, BullMQ worker', async () => {
  const redisKeyPrefix = uniqueRedisPrefix();
  const app = await startTestApp({ db: 'postgres', redis: true, redisKeyPrefix, env: UPLOAD_ENV });
  const dataDir = app.config.dataDir;
  const workerConfig = loadConfig({
    DATA_DIR: dataDir,
    DATABASE_URL: app.databaseUrl,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: redisKeyPrefix,
    JWT_SECRET: TEST_JWT_SECRET,
    ...UPLOAD_ENV,
  });
  const worker = await startFileWorker(workerConfig, loadFileWorkerSettings({}), createLogger('silent'));
  return {
    app,
    async close() {
      await worker.close();
      await app.close();
    },
  };
});
