import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, testDb, type TestApp } from '../../helpers/test-app';

describe(`CORS allowlist on ${testDb()}`, () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { CORS_ORIGINS: 'https://app.example.test' } });
  });
  afterAll(() => app?.close());

  const preflight = (origin: string) =>
    fetch(`${app.url}/api/v1/rooms`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });

  it('answers an allowed origin’s preflight, and nobody else’s', async () => {
    const ok = await preflight('https://app.example.test');
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example.test');
    expect(ok.headers.get('access-control-allow-headers')).toContain('Authorization');
    const other = await preflight('https://evil.example.test');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('marks real responses for the allowed origin only', async () => {
    const t = app.token('cors-user');
    const ok = await fetch(`${app.url}/api/v1/auth/me`, { headers: { origin: 'https://app.example.test', authorization: `Bearer ${t}` } });
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example.test');
    const other = await fetch(`${app.url}/api/v1/auth/me`, { headers: { origin: 'https://evil.example.test', authorization: `Bearer ${t}` } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('applies the same allowlist to Socket.IO polling requests', async () => {
    const ok = await fetch(`${app.url}/socket.io/?EIO=4&transport=polling`, { headers: { origin: 'https://app.example.test' } });
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example.test');
    const other = await fetch(`${app.url}/socket.io/?EIO=4&transport=polling`, { headers: { origin: 'https://evil.example.test' } });
    expect(other.headers.get('access-control-allow-origin')).not.toBe('https://evil.example.test');
  });
});
