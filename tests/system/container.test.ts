import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanEnv, LISTENING, REPO_ROOT, spawnProcess } from '../helpers/process';
import { parseYamlSubset } from '../helpers/yaml-subset';

// In a container the entry point is PID 1 and `docker stop` signals only it: it must be the server
// process itself (not npm, which does not pass SIGTERM on), or the shutdown grace never runs.

/** The exec-form CMD of the Dockerfile. */
function dockerCmd(): string[] {
  const line = readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith('CMD '));
  expect(line, 'the Dockerfile has a CMD').toBeDefined();
  const cmd = JSON.parse(line!.slice(4)) as string[];
  expect(Array.isArray(cmd), 'CMD in exec form (no shell in between)').toBe(true);
  return cmd;
}

describe('the container entry point', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'pantheon-container-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('runs the server process directly, and a SIGTERM to that one process shuts it down cleanly', async () => {
    const [program, ...args] = dockerCmd();
    expect(program).toBe('node');
    // The test runs the same command with this Node (the image's is the same major version).
    const proc = spawnProcess(process.execPath, args, cleanEnv({ PORT: '0', DATA_DIR: dataDir }));
    try {
      await proc.waitFor(LISTENING, 90_000);
      // Only the entry process, as `docker stop` does: no process-group signal.
      process.kill(proc.child.pid!, 'SIGTERM');
      const code = await new Promise<number | null>((resolve) => proc.child.once('exit', (c) => resolve(c)));
      expect(code).toBe(0);
      expect(proc.output()).toMatch(/"signal":"SIGTERM"[^\n]*"msg":"shutting down"/);
    } finally {
      await proc.stop('SIGKILL');
    }
  }, 120_000);

  it('starts the services of docker-compose.yml without npm in between', () => {
    const compose = parseYamlSubset(readFileSync(path.join(REPO_ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, { command?: string[] }> };
    const app = Object.values(compose.services)
      .map((s) => s.command)
      .filter((c): c is string[] => Array.isArray(c) && c[0] !== 'redis-server');
    expect(app.length).toBe(3);
    for (const c of app) expect(c[0]).toBe('node');
  });
});
