import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config';
import { createRedactor, redactKeyPatterns } from '../../../src/shared/redactor';

describe('Redactor', () => {
  it('replaces configured secrets by value: as written, JSON-escaped and percent-encoded', () => {
    const r = createRedactor(['ollama-canary-0001', 'p@ss"word/with:odd', undefined]);
    expect(r.redact('401: key ollama-canary-0001 refused')).toBe('401: key [redacted] refused');
    expect(r.redact(JSON.stringify({ auth: 'p@ss"word/with:odd' }))).toBe('{"auth":"[redacted]"}');
    expect(r.redact(`postgres://u:${encodeURIComponent('p@ss"word/with:odd')}@db/x`)).toBe('postgres://u:[redacted]@db/x');
  });

  it('leaves values too short to tell from ordinary words', () => {
    expect(createRedactor(['pass']).redact('a pass word')).toBe('a pass word');
  });

  it('cuts key-shaped strings and bearer tokens of anything else', () => {
    expect(redactKeyPatterns('Incorrect API key provided: sk-proj-abcdef123456. Bearer abcdefghijkl')).toBe(
      'Incorrect API key provided: sk-[redacted]. Bearer [redacted]',
    );
    expect(createRedactor([]).redact('tvly-abcdefgh1234')).toBe('tvly-[redacted]');
  });

  it('is built from every secret of the config', () => {
    const config = loadConfig({
      MODELS: JSON.stringify({ a: { model: 'm', apiKeyEnv: 'A_KEY' }, b: { model: 'm', apiKeyEnv: 'B_KEY' } }),
      A_KEY: 'canary-model-key-a',
      B_KEY: 'canary-model-key-b',
      OPENAI_API_KEY: 'canary-openai-key',
      TAVILY_API_KEY: 'canary-tavily-key',
      JWT_SECRET: 'canary-jwt-secret-0123456789abcdefghij',
      DATABASE_URL: 'postgres://u:canary%2Fdb-password@127.0.0.1/x',
      REDIS_URL: 'redis://:canary-redis-password@127.0.0.1:6379',
    });
    const r = createRedactor(config.secrets);
    const text = [
      'canary-model-key-a',
      'canary-model-key-b',
      'canary-openai-key',
      'canary-tavily-key',
      'canary-jwt-secret-0123456789abcdefghij',
      'canary/db-password',
      'canary%2Fdb-password',
      'canary-redis-password',
    ].join(' ');
    expect(r.redact(text)).not.toContain('canary');
  });
});
