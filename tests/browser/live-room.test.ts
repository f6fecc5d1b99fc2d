import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, makeRoom, openRoom, replyTexts, startWebServer, type WebServer } from '../helpers/browser';

// Code in waitForFunction runs in the page.
declare const document: { querySelector(selector: string): { textContent: string | null } | null };

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
});
