// A bot that lives in a Pantheon room: it connects through the client package with a bot token,
// joins the rooms it is given, and answers every message from a person that mentions it
// (`@<name>`) with a message of its own in the same session.
//
//   PANTHEON_URL=http://localhost:3000 PANTHEON_TOKEN=$(npm run -s token -- --sub helper-bot --name Helper --bot) \
//   PANTHEON_ROOMS=<roomId>[,<roomId>] npx tsx examples/bot.ts
//
// The room's owner adds the bot first: POST /api/v1/rooms/:roomId/members { "sub": "helper-bot" }.
import { PantheonClient, type MessageDto } from 'pantheon/client';

const url = process.env.PANTHEON_URL ?? 'http://localhost:3000';
const token = process.env.PANTHEON_TOKEN;
const rooms = (process.env.PANTHEON_ROOMS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
if (!token || rooms.length === 0) {
  console.error('Set PANTHEON_TOKEN (a bot token) and PANTHEON_ROOMS (room ids, comma-separated).');
  process.exit(1);
}

const client = new PantheonClient(url, { token });
const me = await client.rest.me();
// Mentions by display name or by sub, case-insensitive: "@Helper", "@helper-bot".
const names = [...new Set([me.displayName, me.sub])].map((n) => n.toLowerCase());
const mentioned = (text: string) => names.some((n) => text.toLowerCase().includes(`@${n}`));

/** The bot's answer; a real bot would call its own service here. */
function answer(m: MessageDto): string {
  const question = m.content.replace(/@\S+/g, '').trim();
  return question ? `Hello from ${me.displayName}! You asked: "${question}". I have noted it.` : `Hello from ${me.displayName}!`;
}

client.on('message:created', (e) => {
  const m = e.message;
  // Only people's messages: never its own (nor other bots', which could answer back forever).
  if (m.authorType !== 'user' || m.authorUserId === me.id || !mentioned(m.content)) return;
  client
    .send({ roomId: e.roomId, sessionId: m.sessionId, content: answer(m), clientMsgId: `reply-${m.id}` })
    .then(({ messageId }) => console.log(JSON.stringify({ msg: 'answered', roomId: e.roomId, to: m.id, messageId })))
    .catch((err: Error & { code?: string }) => console.error(JSON.stringify({ msg: 'answer failed', code: err.code, error: err.message })));
});
client.onState((s) => console.log(JSON.stringify({ msg: 'connection', state: s })));

for (const roomId of rooms) await client.join(roomId);
console.log(JSON.stringify({ msg: 'ready', user: me.displayName, rooms }));

const stop = () => {
  client.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
