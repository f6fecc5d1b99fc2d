import { startTestApp, testDb } from '../../helpers/test-app';
import { UPLOAD_ENV, uploadSuite } from '../../helpers/upload-suite';

// Embedded mode: the in-process queue parses in the server's own worker threads.
uploadSuite(`embedded on ${testDb()}`, async () => {
  const app = await startTestApp({ env: UPLOAD_ENV });
  return { app, close: () => app.close() };
});
