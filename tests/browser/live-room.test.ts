import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, makeRoom, openRoom, replyTexts, startWebServer, type WebServer } from '../helpers/browser';

// Code in waitForFunction runs in the page.
declare const document: { querySelector(selector: string): ({ textContent: string | null } & { value?: number }) | null };

// Two people in one room, in two browsers: the same reply streams to both, and one who loses the
// network in the middle of it ends with the whole reply, once.
const WORDS = 90;
const REPLY = Array.from({ length: WORDS }, (_, i) => `w${i}`).join(' ') + '.';

describe('the web room, live', () => {
  let server: WebServer;
  let browser: Browser;
  beforeAll(async () => {
    [server, browser] = await Promise.all([startWebServer(), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('streams one agent reply to two users; one goes offline mid-turn and, back online, shows the full reply exactly once', async () => {
    server.fake.setResponder(() => ({ text: REPLY, chunkDelayMs: 50, usage: { promptTokens: 40, completionTokens: WORDS } }));
    const { roomId } = await makeRoom(server, 'Alice', { agents: [{ key: 'writer', name: 'Writer' }], members: ['Bob'] });
    const aliceCtx = await browser.newContext();
    const bobCtx = await browser.newContext();
    try {
      const alice = await openRoom(aliceCtx, server.app.url, 'Alice', roomId);
      const bob = await openRoom(bobCtx, server.app.url, 'Bob', roomId);
      await alice.waitForSelector('.online li:has-text("Bob")');
      // Bob typing shows on Alice's page.
      await bob.fill('#composer', 'thinking');
      await alice.waitForSelector('[data-testid=typing]:has-text("Bob is typing")');
      await bob.fill('#composer', '');

      await alice.fill('#composer', '@writer draft the intro');
      await alice.keyboard.press('Enter');
      const firstWords = (p: typeof alice) => p.waitForFunction(() => /w0 /.test(document.querySelector('[data-testid=reply][data-agent=writer] [data-testid=reply-text]')?.textContent ?? ''));
      await Promise.all([firstWords(alice), firstWords(bob)]);
      // Both bubbles carry the agent's name and model alias while streaming.
      await expect(bob.textContent('[data-testid=reply][data-agent=writer] .who')).resolves.toBe('Writer');
      await expect(bob.textContent('[data-testid=reply][data-agent=writer] .alias')).resolves.toBe('fake');
      expect(await bob.getAttribute('[data-testid=reply][data-agent=writer]', 'data-status')).toBe('streaming');

      // Bob loses the network; the reply goes on without him.
      await bobCtx.setOffline(true);
      await bob.waitForSelector('[data-testid=conn][data-state=reconnecting]');
      expect(await bob.isVisible('.banner')).toBe(true);
      const bobAtDrop = (await replyTexts(bob, 'writer'))[0]!;
      await alice.waitForFunction(
        (n) => (document.querySelector('[data-testid=reply][data-agent=writer] [data-testid=reply-text]')?.textContent ?? '').split(' ').length >= n,
        bobAtDrop.split(' ').length + 20,
      );
      expect((await replyTexts(bob, 'writer'))[0]).toBe(bobAtDrop);

      // Back online: the missed text is replayed, nothing twice.
      await bobCtx.setOffline(false);
      await bob.waitForSelector('[data-testid=conn][data-state=connected]', { timeout: 30_000 });
      await Promise.all(
        [alice, bob].map((p) => p.waitForSelector('[data-testid=reply][data-agent=writer][data-status=complete]', { timeout: 30_000 })),
      );
      expect(await replyTexts(alice, 'writer')).toEqual([REPLY]);
      expect(await replyTexts(bob, 'writer')).toEqual([REPLY]);
      await bob.waitForSelector('[data-testid=turn][data-status=completed]');
      expect(await bob.isVisible('.banner')).toBe(false);
    } finally {
      await aliceCtx.close();
      await bobCtx.close();
    }
  });

  it('shows an upload’s progress, then its parse state until ready, and attaches it to the next message', async () => {
    const { roomId } = await makeRoom(server, 'Carol', { agents: [{ key: 'writer', name: 'Writer' }] });
    const ctx = await browser.newContext();
    try {
      const page = await openRoom(ctx, server.app.url, 'Carol', roomId);
      // A slow uplink, so the upload takes a few seconds and its progress can be seen.
      const cdp = await ctx.newCDPSession(page);
      await cdp.send('Network.enable');
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 256 * 1024 });
      const buffer = Buffer.from('A line of notes for the team.\n'.repeat(40_000)); // 1.2 MB
      await page.setInputFiles('[data-testid=file-input]', { name: 'notes.txt', mimeType: 'text/plain', buffer });
      await page.waitForSelector('[data-testid=file][data-state=uploading]');
      await page.waitForFunction(() => {
        const p = document.querySelector('[data-testid=file][data-state=uploading] progress');
        return p !== null && Number(p.value) > 0 && Number(p.value) < 100;
      });
      const midway = await page.textContent('[data-testid=file] .state');
      expect(midway).toMatch(/^uploading \d+%$/);
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
      await page.waitForSelector('[data-testid=file][data-state=ready]', { timeout: 60_000 });
      expect(await page.textContent('[data-testid=file][data-state=ready] .name')).toBe('notes.txt');
      expect(await page.textContent('[data-testid=file][data-state=ready] .state')).toBe('ready');
      expect(await page.textContent('.chips')).toContain('notes.txt (ready)');
    } finally {
      await ctx.close();
    }
  });

  it('the stop button ends a running turn as cancelled with its partial text; a message sent meanwhile shows its queue position', async () => {
    const long = Array.from({ length: 400 }, (_, i) => `s${i}`).join(' ');
    let calls = 0;
    server.fake.setResponder(() => (++calls === 1 ? { text: long, chunkDelayMs: 60 } : { text: 'Short answer.', chunkDelayMs: 5 }));
    const { roomId } = await makeRoom(server, 'Dan', { agents: [{ key: 'writer', name: 'Writer' }] });
    const ctx = await browser.newContext();
    try {
      const page = await openRoom(ctx, server.app.url, 'Dan', roomId);
      await page.fill('#composer', '@writer write a long essay');
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => / s5 /.test(document.querySelector('[data-testid=reply][data-agent=writer] [data-testid=reply-text]')?.textContent ?? ''));
      await page.fill('#composer', '@writer and then a short one');
      await page.keyboard.press('Enter');
      await page.waitForSelector('[data-testid=turn][data-status=queued] [data-testid=turn-status]:has-text("1 ahead")');

      await page.click('[data-testid=turn][data-status=running] [data-testid=stop]');
      await page.waitForSelector('[data-testid=turn][data-status=cancelled]');
      const [partial] = await replyTexts(page, 'writer');
      expect(await page.getAttribute('[data-testid=reply][data-agent=writer]', 'data-status')).toBe('cancelled');
      expect(partial!.length).toBeGreaterThan(5);
      expect(long.startsWith(partial!)).toBe(true);
      expect(partial!.length).toBeLessThan(long.length);

      // The queued message runs next and completes.
      await page.waitForSelector('[data-testid=turn][data-status=completed]');
      expect((await replyTexts(page, 'writer'))[1]).toBe('Short answer.');

      // What was stopped is stored as it was: a reload shows the same partial text, cancelled.
      await page.reload();
      await page.waitForSelector('[data-testid=reply][data-agent=writer][data-status=cancelled]');
      expect((await replyTexts(page, 'writer'))[0]).toBe(partial);
    } finally {
      await ctx.close();
    }
  });

  it('signs in by name, creates a room, adds an agent with a role, alias and tool by the forms, and gets its reply', async () => {
    server.fake.setResponder(() => ({ text: 'Scribe here, noted.', chunkDelayMs: 5 }));
    const ctx = await browser.newContext();
    try {
      const page = await ctx.newPage();
      await page.goto(`${server.app.url}/`);
      await page.fill('#signin-name', 'Eve');
      await page.keyboard.press('Enter');
      await page.fill('#room-name', 'Notes');
      await page.selectOption('#room-mode', 'manual');
      await page.click('text=Create room');
      await page.waitForURL(/\/rooms\/[0-9a-f-]{36}$/);
      await page.waitForSelector('[data-testid=conn][data-state=connected]');
      await page.click('summary:has-text("Add an agent")');
      await page.fill('#agent-key', 'scribe');
      await page.fill('#agent-name', 'Scribe');
      await page.fill('#agent-role', 'You keep the minutes.');
      await page.fill('#agent-alias', 'fake');
      await page.check('#tool-read_file');
      await page.click('[data-testid=add-agent] button[type=submit]');
      await page.waitForSelector('.agents li:has-text("Scribe @scribe")');
      expect(await page.textContent('.agents li')).toContain('tools: read_file');
      await page.fill('#composer', '@scribe note this');
      await page.click('[data-testid=send]');
      await page.waitForSelector('[data-testid=reply][data-agent=scribe][data-status=complete]');
      expect(await replyTexts(page, 'scribe')).toEqual(['Scribe here, noted.']);
      expect(await page.textContent('[data-testid=reply][data-agent=scribe] .alias')).toBe('fake');
    } finally {
      await ctx.close();
    }
  });
});
