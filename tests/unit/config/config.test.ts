import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/config';

const problemsOf = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => p.variable);
    throw err;
  }
  return [];
};

describe('loadConfig', () => {
  it('gives embedded defaults with the demo model when nothing is set', () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.databaseUrl).toBeUndefined();
    expect(c.redisUrl).toBeUndefined();
    expect(Object.keys(c.models)).toEqual(['demo']);
    expect(c.defaultModelAlias).toBe('demo');
    expect(c.limits.deltaFlushMs).toBe(40);
    expect(c.limits.uploadBytes).toBe(20 * 1024 * 1024);
  });

  it('caps what one user can make the server hold or spend, each settable', () => {
    expect(loadConfig({}).limits).toMatchObject({
      roomsPerUser: 100,
      agentsPerRoom: 12,
      sessionsPerRoom: 200,
      queuedTurnsPerSession: 10,
      queuedTurnsPerSender: 3,
      rolePromptChars: 4000,
      systemPromptChars: 8000,
    });
    expect(loadConfig({ MAX_AGENTS_PER_ROOM: '3' }).limits.agentsPerRoom).toBe(3);
    expect(problemsOf({ MAX_AGENTS_PER_ROOM: '0', MAX_SYSTEM_PROMPT_CHARS: '10' }).sort()).toEqual(['MAX_AGENTS_PER_ROOM', 'MAX_SYSTEM_PROMPT_CHARS']);
  });

  it('keeps rooms from bot tokens unless BOTS_MAY_CREATE_ROOMS says otherwise', () => {
    expect(loadConfig({}).botsMayCreateRooms).toBe(false);
    expect(loadConfig({ BOTS_MAY_CREATE_ROOMS: 'true' }).botsMayCreateRooms).toBe(true);
    expect(loadConfig({ BOTS_MAY_CREATE_ROOMS: '0' }).botsMayCreateRooms).toBe(false);
    expect(problemsOf({ BOTS_MAY_CREATE_ROOMS: 'yes' })).toEqual(['BOTS_MAY_CREATE_ROOMS']);
    expect(problemsOf({ MAX_QUEUED_TURNS_PER_SENDER: '0' })).toEqual(['MAX_QUEUED_TURNS_PER_SENDER']);
  });

  it('names every bad variable', () => {
    expect(problemsOf({ PORT: '70000', DATABASE_URL: 'mysql://x', REDIS_URL: 'http://x' }).sort()).toEqual(['DATABASE_URL', 'PORT', 'REDIS_URL']);
    expect(problemsOf({ JWT_SECRET: 'short' })).toEqual(['JWT_SECRET']);
    expect(problemsOf({ CORS_ORIGINS: 'https://ok.example, not an origin' })).toEqual(['CORS_ORIGINS']);
    expect(problemsOf({ MAX_UPLOAD_BYTES: '-1' })).toEqual(['MAX_UPLOAD_BYTES']);
    expect(problemsOf({ DEFAULT_MODEL_ALIAS: 'nope' })).toEqual(['DEFAULT_MODEL_ALIAS']);
    expect(problemsOf({ REDIS_KEY_PREFIX: 'has space' })).toEqual(['REDIS_KEY_PREFIX']);
    expect(problemsOf({ TURN_HEARTBEAT_MS: '1000', TURN_STALE_AFTER_MS: '1500' })).toEqual(['TURN_STALE_AFTER_MS']);
  });

  it('reads the model table inline or from a file, resolving keys from the variables it names', () => {
    const table = {
      fast: { baseUrl: 'http://127.0.0.1:9/v1', model: 'm1', apiKeyEnv: 'FAST_KEY', inputPricePerMillion: 1, outputPricePerMillion: 2 },
      offline: { kind: 'demo' },
    };
    const inline = loadConfig({ MODELS: JSON.stringify(table), FAST_KEY: 'sk-1' });
    expect(inline.models.fast).toMatchObject({ kind: 'openai', model: 'm1', apiKey: 'sk-1', inputPricePerMillion: 1 });
    expect(inline.models.offline?.kind).toBe('demo');
    expect(inline.defaultModelAlias).toBe('fast');
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'models-')), 'models.json');
    writeFileSync(file, JSON.stringify(table));
    expect(loadConfig({ MODELS: file }).models.fast?.kind).toBe('openai');
  });

  it('refuses a malformed model table with the variable named', () => {
    expect(problemsOf({ MODELS: '{not json' })).toEqual(['MODELS']);
    expect(problemsOf({ MODELS: JSON.stringify({ x: { model: '' } }) })).toEqual(['MODELS']);
    expect(problemsOf({ MODELS: JSON.stringify({ 'bad name!': { model: 'm' } }) })).toEqual(['MODELS']);
    expect(problemsOf({ MODELS: '/no/such/file.json' })).toEqual(['MODELS']);
  });

  it('makes an openai alias from OPENAI_API_KEY alone', () => {
    const c = loadConfig({ OPENAI_API_KEY: 'sk-x', OPENAI_BASE_URL: 'http://127.0.0.1:1/v1' });
    expect(c.models.openai).toMatchObject({ kind: 'openai', baseUrl: 'http://127.0.0.1:1/v1', apiKey: 'sk-x' });
    expect(c.defaultModelAlias).toBe('openai');
  });

  it('reads MCP_SERVERS: headers and child env values from named variables (kept as secrets), and refuses bad lists', () => {
    const servers = JSON.stringify([
      { name: 'files', url: 'http://127.0.0.1:9/mcp', headers: { Authorization: 'MCP_FILES_TOKEN' } },
      { name: 'local', command: 'node', args: ['server.js'], env: { API_KEY: 'LOCAL_KEY' } },
    ]);
    const c = loadConfig({ MCP_SERVERS: servers, MCP_FILES_TOKEN: 'Bearer files-token-1234', LOCAL_KEY: 'local-key-5678', TOOL_APPROVAL_TIMEOUT_MS: '5000' });
    expect(c.tools.mcpServers).toEqual([
      { name: 'files', transport: 'http', url: 'http://127.0.0.1:9/mcp', headers: { Authorization: 'Bearer files-token-1234' } },
      { name: 'local', transport: 'stdio', command: 'node', args: ['server.js'], env: { API_KEY: 'local-key-5678' } },
    ]);
    expect(c.secrets).toEqual(expect.arrayContaining(['Bearer files-token-1234', 'local-key-5678']));
    expect(c.tools.approvalTimeoutMs).toBe(5000);
    expect(loadConfig({}).tools).toMatchObject({ approvalTimeoutMs: 300_000, mcpServers: [] });
    expect(problemsOf({ MCP_SERVERS: servers })).toEqual(['MCP_SERVERS']);
    expect(problemsOf({ MCP_SERVERS: '{"name":"x"}' })).toEqual(['MCP_SERVERS']);
    expect(problemsOf({ MCP_SERVERS: '[{"name":"Bad Name","command":"x"}]' })).toEqual(['MCP_SERVERS']);
    expect(problemsOf({ MCP_SERVERS: '[{"name":"a","url":"ftp://x"}]' })).toEqual(['MCP_SERVERS']);
    expect(problemsOf({ MCP_SERVERS: '[{"name":"a","command":"x"},{"name":"a","command":"y"}]' })).toEqual(['MCP_SERVERS']);
  });
});
