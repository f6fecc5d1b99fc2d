// `npm run screenshots`: refreshes docs/screenshots/ from the real web room. Starts an embedded
// server (dev login on) whose agents answer from a scripted OpenAI-compatible test server (a plan,
// a tool call that reads an uploaded file, streamed replies, a summary), drives two users in
// headless Chromium, and saves what they see at desktop and phone widths.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import buildWebOnce from '../tests/browser/web-build';
import { launchBrowser, makeRoom, openRoom, startWebServer } from '../tests/helpers/browser';
import { transcriptOf, type RecordedRequest } from '../tests/helpers/fake-openai';
import { agentNameOf, isManagerRequest, systemOf } from '../tests/helpers/turn-kit';

const OUT = path.resolve(import.meta.dirname, '../docs/screenshots');
const DESKTOP = { width: 1280, height: 860 };
const PHONE = { width: 390, height: 844 };

const words = (text: string) => text.split(/(?<= )/);

function script(fileId: () => string) {
  let researcherCalls = 0;
  return (req: RecordedRequest) => {
    const system = systemOf(req);
    if (isManagerRequest(req)) return { text: transcriptOf(req).includes('@critic') ? '{"selected_agent_keys": ["critic"]}' : '{"selected_agent_keys": ["researcher", "writer"]}' };
    if (system.startsWith('Extract structured fields')) {
      return {
        text: JSON.stringify({
          topics: ['launch date', 'pricing page', 'beta feedback'],
          decisions: ['Launch on March 3 with the public beta'],
          openQuestions: ['Who writes the press note?'],
        }),
      };
    }
    if (system.startsWith('You keep the running summary')) {
      return { text: 'Alice and Bob plan the launch. The researcher read the beta feedback; the writer drafted the announcement. Launch set for March 3; the press note has no owner yet.' };
    }
    const name = agentNameOf(req);
    if (name === 'Critic') {
      return {
        text: words(
          'The weakest part is the date: March 3 leaves two weeks for the pricing page, and the beta feedback says that page is the main source of confusion. Either move the launch by a week or ship a simpler pricing page first and keep the detailed comparison for later. The announcement itself reads well, though it promises a lot in one sentence: say what a room is before saying what agents do in it, and end with one concrete thing a reader can try on launch day, such as opening a room with two agents and asking them to plan a trip.',
        ),
        chunkDelayMs: 25,
        usage: { promptTokens: 900, completionTokens: 70 },
      };
    }
    if (name === 'Researcher') {
      if (researcherCalls++ % 2 === 0) return { toolCalls: [{ name: 'read_file', args: { fileId: fileId() } }], chunkDelayMs: 200 };
      return {
        text: words('The beta feedback has 3 themes: onboarding is slow, the pricing page confuses teams, and people love the live rooms. I would fix the pricing page before launch.'),
        chunkDelayMs: 35,
        usage: { promptTokens: 820, completionTokens: 44 },
      };
    }
    return {
      text: words(
        'Draft announcement: "Pantheon opens its public beta on March 3. Rooms where your team and a crew of AI agents think out loud together, with every answer streamed live." Next: a clearer pricing page, as the researcher suggests.',
      ),
      chunkDelayMs: 45,
      usage: { promptTokens: 640, completionTokens: 61 },
    };
  };
}

async function shot(page: Page, name: string) {
  await page.screenshot({ path: path.join(OUT, name), fullPage: false });
  console.log(`docs/screenshots/${name}`);
}

async function main() {
  mkdirSync(OUT, { recursive: true });
  await buildWebOnce();
  const server = await startWebServer({ LOG_LEVEL: 'warn' });
  const browser = await launchBrowser();
  try {
    let fileId = '';
    server.fake.setResponder(script(() => fileId));
    const { token, roomId } = await makeRoom(server, 'Alice', {
      name: 'Launch plan',
      mode: 'orchestrator',
      agents: [
        { key: 'researcher', name: 'Researcher', rolePrompt: 'You read the team’s files and report what matters.', toolPermissions: ['read_file'] },
        { key: 'writer', name: 'Writer', rolePrompt: 'You draft short, clear texts.' },
        { key: 'critic', name: 'Critic', rolePrompt: 'You point out the weakest part.' },
      ],
      members: ['Bob'],
    });
    await server.app.api(token, 'PATCH', `/rooms/${roomId}`, { settings: { contextBudgetTokens: 256 } });
    const feedback = new FormData();
    feedback.append('file', new Blob(['theme,count\nonboarding is slow,14\npricing page confuses teams,11\nlove the live rooms,23\n']), 'beta-feedback.csv');
    const up = await fetch(`${server.app.url}/api/v1/rooms/${roomId}/files`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: feedback });
    fileId = ((await up.json()) as { id: string }).id;

    const aliceCtx = await browser.newContext({ viewport: DESKTOP, deviceScaleFactor: 1 });
    const bobCtx = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const alice = await openRoom(aliceCtx, server.app.url, 'Alice', roomId);
    const bob = await openRoom(bobCtx, server.app.url, 'Bob', roomId);
    await alice.waitForSelector('.online li:has-text("Bob")');
    await alice.waitForSelector('[data-testid=file][data-state=ready]');

    await alice.fill('#composer', 'What did the beta testers say, and can we draft the launch note?');
    await alice.keyboard.press('Enter');
    // Mid-turn: the plan, the tool call, a reply streaming, the stop button.
    await alice.waitForSelector('[data-testid=reply][data-agent=researcher] [data-testid=tool]');
    await alice.waitForFunction(() => ((globalThis as unknown as { document: { querySelector(s: string): { textContent: string | null } | null } }).document.querySelector('[data-testid=reply][data-agent=writer] [data-testid=reply-text]')?.textContent ?? '').length > 60);
    await bob.fill('#composer', 'Looks good — ');
    await shot(alice, 'room-streaming.png');
    await alice.waitForSelector('[data-testid=turn][data-status=completed]', { timeout: 60_000 });
    await bob.fill('#composer', '@critic what is the weakest part of this plan?');
    await bob.keyboard.press('Enter');
    await alice.waitForSelector('[data-testid=reply][data-agent=critic][data-status=complete]', { timeout: 60_000 });
    await alice.waitForSelector('[data-testid=summary] [data-testid=decisions]', { timeout: 60_000 });
    await alice.waitForTimeout(500); // the usage line is asked for just after the turn ends
    await shot(alice, 'room-desktop.png');
    await bob.evaluate(() => (globalThis as unknown as { scrollTo(x: number, y: number): void }).scrollTo(0, 0));
    await shot(bob, 'room-phone.png');
    await bobCtx.setOffline(true);
    await bob.waitForSelector('[data-testid=conn][data-state=reconnecting]');
    await shot(bob, 'room-phone-reconnecting.png');
    await bobCtx.setOffline(false);

    const roomsPage = await aliceCtx.newPage();
    await roomsPage.goto(`${server.app.url}/`);
    await roomsPage.waitForSelector('.rooms a');
    await shot(roomsPage, 'rooms.png');
    await aliceCtx.close();
    await bobCtx.close();
  } finally {
    await browser.close();
    await server.close();
  }
}

await main();
