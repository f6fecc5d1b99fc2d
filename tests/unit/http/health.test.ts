import express from 'express';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { healthRoutes } from '../../../src/http/routes/health';
import type { Logger } from '../../../src/shared/logger';

describe('GET /health', () => {
  it('names a failing part to anyone, and explains it only in the log', async () => {
    const logged: unknown[] = [];
    const logger = { warn: (msg: string, fields: unknown) => logged.push({ msg, fields }) } as unknown as Logger;
    const app = express().use(
      healthRoutes(
        {
          database: async () => {
            throw new Error('password authentication failed for user "pantheon" at db.internal:5432');
          },
          redis: async () => 'PONG',
        },
        logger,
      ),
    );
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/health`);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ status: 'degraded', checks: { database: { ok: false, error: 'unavailable' }, redis: { ok: true } } });
      expect(logged).toEqual([{ msg: 'health check failed', fields: { check: 'database', err: expect.objectContaining({ message: expect.stringContaining('db.internal') }) } }]);
    } finally {
      server.close();
    }
  });
});
