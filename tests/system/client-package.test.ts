import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PantheonClient } from '../../src/client';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai';
import { cleanEnv, REPO_ROOT, runNpm, spawnProcess, type Spawned } from '../helpers/process';
import { startTestApp, type TestApp } from '../helpers/test-app';
import { fakeModelsEnv } from '../helpers/turn-kit';

// The client SDK as a user installs it: `npm pack`, installed offline into a project outside the
// repository, then run against a live server. The project's node_modules is seeded with links to
// the repository's installed packages, so npm finds the package's dependencies without a registry.
const REPLY = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ') + '.';

function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Links every package of the repository's node_modules into `dir`/node_modules (npm replaces only links). */
function seedNodeModules(dir: string) {
  const from = path.join(REPO_ROOT, 'node_modules');
  for (const name of readdirSync(from)) {
    if (name.startsWith('.')) continue;
    if (name.startsWith('@')) {
      mkdirSync(path.join(dir, 'node_modules', name), { recursive: true });
      for (const sub of readdirSync(path.join(from, name))) symlinkSync(path.join(from, name, sub), path.join(dir, 'node_modules', name, sub));
    } else {
      mkdirSync(path.join(dir, 'node_modules'), { recursive: true });
      symlinkSync(path.join(from, name), path.join(dir, 'node_modules', name));
    }
  }
}

describe('the client package (pantheon/client)', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'pantheon-pkg-'));
  const project = path.join(tmp, 'project');
  let app: TestApp;
  let fake: FakeOpenAI;

  beforeAll(async () => {
    const built = await runNpm(['run', '-s', 'build:client'], cleanEnv({}));
    expect(built.code, built.stderr + built.stdout).toBe(0);
    const packed = await runNpm(['pack', '--silent', '--pack-destination', tmp], cleanEnv({}));
    expect(packed.code, packed.stderr).toBe(0);
    const tarball = path.join(tmp, packed.stdout.trim().split('\n').pop()!);
    mkdirSync(project);
    writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'uses-pantheon', version: '1.0.0', private: true, type: 'module' }));
    seedNodeModules(project);
    const installed = await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball], project);
    expect(installed.code, installed.stderr).toBe(0);

    fake = await startFakeOpenAI();
    // Slow enough that the reply is still streaming while a client is away.
    fake.setResponder(() => ({ text: REPLY, chunkDelayMs: 40, usage: { promptTokens: 20, completionTokens: 41 } }));
    app = await startTestApp({ env: fakeModelsEnv(fake, { LOG_LEVEL: 'silent' }) });
  }, 240_000);

  afterAll(async () => {
    await app?.close();
    await fake?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  async function room(mode: 'manual' | 'roundtable') {
    const owner = app.token('owner-pkg', { name: 'Olivia' });
    const r = await app.api(owner, 'POST', '/rooms', { name: 'Package', mode });
    const a = await app.api(owner, 'POST', `/rooms/${r.body.id}/agents`, { key: 'writer', name: 'Writer', modelAlias: 'fake' });
    expect(a.status).toBe(201);
    const s = await app.api(owner, 'POST', `/rooms/${r.body.id}/sessions`, { title: 'work' });
    return { owner, roomId: r.body.id as string, sessionId: s.body.id as string };
  }

  it('installed from its tarball: refreshes an expired token, joins, sends, streams a reply that survives a dropped connection exactly once, uploads with progress', async () => {
    const { owner, roomId, sessionId } = await room('manual');
    copyFileSync(path.join(REPO_ROOT, 'tests/system/fixtures/package-scenario.mjs'), path.join(project, 'scenario.mjs'));
    const cfg = {
      url: app.url,
      token: owner,
      expiredToken: app.token('owner-pkg', { name: 'Olivia', expiresInSeconds: -60 }),
      roomId,
      sessionId,
      content: '@writer write the intro',
    };
    const r = await run(process.execPath, ['scenario.mjs', JSON.stringify(cfg)], project);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out.refreshes).toBeGreaterThanOrEqual(1);
    expect(out.firstJoin).toBe('snapshot');
    expect(out.turnStatus).toBe('completed');
    expect(out.reply).toEqual({ agentKey: 'writer', agentName: 'Writer', text: REPLY, status: 'complete' });
    // The connection dropped mid-reply and came back; the rejoin asked for a replay from its
    // position, and no second snapshot was needed.
    expect(out.states).toContain('reconnecting');
    expect(out.joins, JSON.stringify(out)).toHaveLength(2);
    expect(out.joins[1]).toMatchObject({ roomId, lastSeq: expect.any(Number), epoch: expect.any(String) });
    expect(out.snapshots).toBe(1);
    expect(out.again).toMatchObject({ duplicate: true, turnId: out.sent.turnId, messageId: out.sent.messageId });
    expect(out.progress.at(-1)).toBe(100);
    expect(out.file).toMatchObject({ filename: 'notes.txt', state: 'ready' });
  }, 120_000);

  it('type-checks a TypeScript consumer under Node’s own module resolution (nodenext)', async () => {
    writeFileSync(
      path.join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, skipLibCheck: false, types: [] , lib: ['es2022', 'dom'] }, files: ['consumer.ts'] }),
    );
    writeFileSync(
      path.join(project, 'consumer.ts'),
      [
        "import { PantheonClient, type AgentReply, type RoomEvent } from 'pantheon/client';",
        "const client = new PantheonClient('http://localhost:3000', { token: async () => 't' });",
        "client.on('agent:delta', (e: RoomEvent<'agent:delta'>) => console.log(e.text.length, e.seq));",
        "const replies: AgentReply[] = client.model('r').repliesOf('t');",
        "// @ts-expect-error: the contract's event names are checked",
        "client.on('no:such-event', () => {});",
        'export { replies };',
      ].join('\n'),
    );
    const r = await run(process.execPath, [path.join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', '.'], project);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  }, 120_000);

  it('examples/bot.ts, run through the installed package, answers a mention', async () => {
    const { owner, roomId, sessionId } = await room('manual');
    const added = await app.api(owner, 'POST', `/rooms/${roomId}/members`, { sub: 'helper-bot', displayName: 'Helper' });
    expect(added.status).toBe(201);
    copyFileSync(path.join(REPO_ROOT, 'examples/bot.ts'), path.join(project, 'bot.ts'));
    let bot: Spawned | undefined;
    const alice = new PantheonClient(app.url, { token: owner });
    try {
      const env = cleanEnv({ PANTHEON_URL: app.url, PANTHEON_TOKEN: app.token('helper-bot', { name: 'Helper', bot: true }), PANTHEON_ROOMS: roomId });
      bot = spawnProcess(process.execPath, [path.join(REPO_ROOT, 'node_modules/tsx/dist/cli.mjs'), 'bot.ts'], env, { cwd: project });
      await bot.waitFor(/"msg":"ready"/, 60_000);
      const answers: string[] = [];
      const answered = new Promise<void>((resolve) =>
        alice.on('message:created', (e) => {
          if (e.message.authorType === 'user' && e.message.content.startsWith('Hello from Helper')) {
            answers.push(e.message.content);
            resolve();
          }
        }),
      );
      await alice.join(roomId);
      await alice.send({ roomId, sessionId, content: 'nobody is mentioned here' });
      await alice.send({ roomId, sessionId, content: '@Helper when is the release?' });
      await answered;
      expect(answers).toEqual(['Hello from Helper! You asked: "when is the release?". I have noted it.']);
      await bot.waitFor(/"msg":"answered"/);
    } finally {
      alice.close();
      await bot?.stop('SIGTERM');
    }
  }, 120_000);
});

