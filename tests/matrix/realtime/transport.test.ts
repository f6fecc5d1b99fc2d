import { startTestApp, testDb } from '../../helpers/test-app';
import { transportSuite } from '../../helpers/transport-suite';

// Embedded transport: one node, in-memory adapter and replay log; on PostgreSQL and on PGlite.
transportSuite(`one embedded node on ${testDb()}`, async () => [
  await startTestApp({ env: { REPLAY_LOG_MAX_EVENTS: '50' } }),
]);
