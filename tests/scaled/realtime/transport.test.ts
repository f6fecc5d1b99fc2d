import { startTestApp } from '../../helpers/test-app';
import { uniqueRedisPrefix } from '../../helpers/services';
import { transportSuite } from '../../helpers/transport-suite';

// Scaled transport: two nodes on one PostgreSQL database and one Redis (own key prefix).
transportSuite('two nodes on Redis', async () => {
  const redisKeyPrefix = uniqueRedisPrefix();
  const env = { REPLAY_LOG_MAX_EVENTS: '50' };
  const a = await startTestApp({ db: 'postgres', redis: true, redisKeyPrefix, env });
  const b = await startTestApp({ db: 'postgres', redis: true, redisKeyPrefix, databaseUrl: a.databaseUrl, env });
  return [a, b];
});
