import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startFakeOpenAI, type FakeOpenAI } from './fake-openai';
import { startTestApp, type TestApp } from './test-app';
import { fakeModelsEnv } from './turn-kit';

/** Debian's Chromium, headless, with what it needs on a machine with no network and no sandbox. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

export interface WebServer {
  app: TestApp;
  fake: FakeOpenAI;
  /** A token from the dev login, as the web room gets one. */
  login(name: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * The server as the web room meets it: embedded (PGlite, its own secret under DATA_DIR), dev login
 * on, agents on a fake OpenAI server whose replies the test scripts.
 */
export async function startWebServer(env: Record<string, string> = {}): Promise<WebServer> {
  const fake = await startFakeOpenAI();
  const app = await startTestApp({ db: 'pglite', env: fakeModelsEnv(fake, { JWT_SECRET: '', DEV_LOGIN: 'true', ...env }) });
  return {
    app,
    fake,
    async login(name) {
      const res = await fetch(`${app.url}/api/v1/auth/dev-login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
      if (res.status !== 201) throw new Error(`dev login answered ${res.status}`);
      return ((await res.json()) as { token: string }).token;
    },
    async close() {
      await app.close();
      await fake.close();
    },
  };
}

/** A room owned by `owner` with agents, a session and extra members (by dev-login name). */
export async function makeRoom(
  s: WebServer,
  owner: string,
  opts: { name?: string; mode?: 'manual' | 'roundtable' | 'orchestrator'; agents: { key: string; name: string; modelAlias?: string; rolePrompt?: string; toolPermissions?: string[] }[]; members?: string[] },
) {
  const token = await s.login(owner);
  const room = await s.app.api(token, 'POST', '/rooms', { name: opts.name ?? 'Writers', mode: opts.mode ?? 'manual' });
  if (room.status !== 201) throw new Error(`room: ${JSON.stringify(room.body)}`);
  for (const a of opts.agents) {
    const r = await s.app.api(token, 'POST', `/rooms/${room.body.id}/agents`, { modelAlias: 'fake', ...a });
    if (r.status !== 201) throw new Error(`agent: ${JSON.stringify(r.body)}`);
  }
  const session = await s.app.api(token, 'POST', `/rooms/${room.body.id}/sessions`, { title: 'General' });
  for (const m of opts.members ?? []) {
    const r = await s.app.api(token, 'POST', `/rooms/${room.body.id}/members`, { sub: `dev:${m.toLowerCase()}`, displayName: m });
    if (r.status !== 201) throw new Error(`member: ${JSON.stringify(r.body)}`);
  }
  return { token, roomId: room.body.id as string, sessionId: session.body.id as string };
}

/** Signs in by name through the page's form and opens a room. */
export async function openRoom(context: BrowserContext, url: string, name: string, roomId: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${url}/rooms/${roomId}`);
  await page.fill('#signin-name', name);
  await page.click('form.signin button[type=submit]');
  await page.waitForSelector('[data-testid=conn][data-state=connected]');
  await page.waitForSelector('[data-testid=timeline]');
  return page;
}

/** The visible text of the reply bubbles of one agent, in order. */
export const replyTexts = (page: Page, agentKey: string) =>
  page.$$eval(`[data-testid=reply][data-agent="${agentKey}"] [data-testid=reply-text]`, (els) => els.map((e) => e.textContent ?? ''));
