import { randomUUID } from 'node:crypto';
import { UI_MESSAGE_STREAM_HEADERS } from 'ai';
import express, { Router, type Response } from 'express';
import { chatBodySchema, chatInput, chatStreamQuerySchema } from '../../contract/chat';
import type { AppConfig } from '../../config/config';
import type { RateLimiter } from '../../infra/rate-limiter';
import type { RoomStream } from '../../rooms/room-streams';
import type { Services } from '../../services';
import { AppError } from '../../shared/errors';
import type { Logger } from '../../shared/logger';
import { currentUser } from '../middleware/auth';
import { body, query } from '../middleware/validate';
import { committedChunks, turnChunks, type TurnChunk } from '../ui-message-chunks';
import { idParam } from './ids';

/** A comment line this often keeps proxies from closing a quiet stream (a model thinking). */
const KEEPALIVE_MS = 15_000;
/** Bytes a slow reader may leave unread before its stream is cut (it resumes by seq). */
const MAX_UNREAD_BYTES = 1024 * 1024;

/** `epoch:seq`, the SSE id of an event's last frame, as Last-Event-ID sends it back. */
const parseEventId = (id: string | undefined) => {
  const m = id?.match(/^([A-Za-z0-9_-]{1,64}):(\d{1,15})$/);
  return m ? { epoch: m[1]!, seq: Number(m[2]) } : undefined;
};

/** Open event streams per user on this node, capped like sockets (MAX_SOCKETS_PER_USER). */
export class StreamSlots {
  private readonly open = new Map<string, number>();
  constructor(private readonly max: number) {}
  take(userId: string): () => void {
    const n = this.open.get(userId) ?? 0;
    if (n >= this.max) throw new AppError('TOO_MANY_CONNECTIONS', 'Too many open streams', { max: this.max });
    this.open.set(userId, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(userId) ?? 1) - 1;
      if (left > 0) this.open.set(userId, left);
      else this.open.delete(userId);
    };
  }
}

/**
 * Chat for frontends built on the Vercel AI SDK (`useChat`): POST sends a message to a session
 * and streams its turn as a UI message stream (SSE, `x-vercel-ai-ui-message-stream: v1`); GET
 * .../chat/stream resumes a turn's stream after a position (`Last-Event-ID` or `afterSeq` and
 * `epoch`). Every frame that ends a room event carries `id: <epoch>:<seq>`, the room stream's own
 * position, so a resumed stream continues exactly where the last one stopped. Closing the stream
 * does not cancel the turn: the room's other members follow it too.
 */
export function chatRoutes(s: Services, config: AppConfig, rateLimiter: RateLimiter, logger: Logger): Router {
  const r = Router();
  const limits = config.limits;
  const slots = new StreamSlots(limits.socketsPerUser);
  // Its own body cap: a useChat client posts the whole conversation with every message.
  const json = express.json({ limit: limits.chatBodyBytes, strict: true, type: ['application/json', '+json'] });

  r.post('/sessions/:sessionId/chat', json, async (req, res) => {
    const user = currentUser(req);
    const sessionId = idParam(req.params.sessionId, 'SESSION_NOT_FOUND');
    const input = chatInput(body(req, chatBodySchema));
    if (!input) throw new AppError('VALIDATION_FAILED', 'The last user message holds no text', [{ path: ['messages'], message: 'no text' }]);
    if (input.text.length > limits.messageChars) {
      throw new AppError('VALIDATION_FAILED', `A message holds at most ${limits.messageChars} characters`, [{ path: ['text'], message: 'too long' }]);
    }
    await rateLimiter.hit(`msg:${user.id}`, limits.messagesPerMinute, 60);
    const roomId = await s.streams.roomOfSession(user.id, sessionId);
    const release = slots.take(user.id);
    let stream: RoomStream | undefined;
    try {
      // Listening starts before the message is sent: every event of its turn is heard.
      stream = await s.streams.open(roomId);
      const ack = await s.turns.send(user.id, { roomId, sessionId, clientMsgId: input.clientMsgId ?? randomUUID(), content: input.text });
      if (ack.duplicate) {
        // The same message again (a retry): its turn is streamed from the room's log instead.
        stream.close();
        stream = await s.streams.open(roomId, { ...(await s.streams.head(roomId)), seq: 0 });
      }
      serve(res, stream, release, { roomId, sessionId, turnId: ack.turnId, messageId: ack.messageId });
    } catch (err) {
      stream?.close();
      release();
      throw err;
    }
  });

  r.get('/sessions/:sessionId/chat/stream', async (req, res) => {
    const user = currentUser(req);
    const sessionId = idParam(req.params.sessionId, 'SESSION_NOT_FOUND');
    const q = query(req, chatStreamQuerySchema);
    const roomId = await s.streams.roomOfSession(user.id, sessionId);
    const turn = await s.streams.turnOf(sessionId, q.turnId);
    if (!turn && q.turnId) throw new AppError('TURN_NOT_FOUND', 'Turn not found');
    const lastEventId = req.headers['last-event-id'];
    const after = parseEventId(typeof lastEventId === 'string' ? lastEventId : undefined) ?? (q.afterSeq !== undefined ? { epoch: q.epoch, seq: q.afterSeq } : undefined);
    // Nothing to resume: no turn, or the newest one ended and no position was given (useChat's
    // reconnect on page load reads 204 as "no active stream").
    if (!turn || (!q.turnId && !after && !['queued', 'running'].includes(turn.status))) {
      res.status(204).end();
      return;
    }
    const release = slots.take(user.id);
    let stream: RoomStream | undefined;
    try {
      const head = await s.streams.head(roomId);
      stream = await s.streams.open(roomId, after ? { epoch: after.epoch ?? head.epoch, seq: after.seq } : { ...head, seq: 0 });
      serve(res, stream, release, { roomId, sessionId, turnId: turn.turnId });
    } catch (err) {
      stream?.close();
      release();
      throw err;
    }
  });

  /** Writes the turn's stream: start, its events as chunks, finish at `turn:end`. */
  function serve(res: Response, stream: RoomStream, release: () => void, meta: { roomId: string; sessionId: string; turnId: string; messageId?: string }) {
    res.writeHead(200, { ...UI_MESSAGE_STREAM_HEADERS, 'cache-control': 'no-store' });
    res.flushHeaders();
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      clearInterval(keepalive);
      stream.close();
      release();
      if (!res.writableEnded) res.end();
    };
    const write = (chunk: TurnChunk | '[DONE]', id?: string) => {
      if (ended) return;
      res.write(`${id ? `id: ${id}\n` : ''}data: ${chunk === '[DONE]' ? chunk : JSON.stringify(chunk)}\n\n`);
      if (res.writableLength > MAX_UNREAD_BYTES) {
        logger.warn('chat stream cut: the reader is too slow', { turnId: meta.turnId });
        end();
      }
    };
    const keepalive = setInterval(() => {
      if (!ended) res.write(': keepalive\n\n');
    }, KEEPALIVE_MS);
    res.on('close', end);

    write({ type: 'start', messageId: meta.turnId, messageMetadata: meta });
    if (stream.gap) {
      // The log no longer reaches back to the position: a turn that ended is told from what was
      // committed (the whole answer again, as one message); one still running cannot be.
      stream.close();
      void s.streams.committedTurn(meta.turnId).then(
        (turn) => {
          if (turn) for (const c of committedChunks(turn)) write(c);
          else write({ type: 'error', errorText: 'REPLAY_GAP: the stream no longer reaches back to that position; read the session messages' });
          write('[DONE]');
          end();
        },
        (err: unknown) => {
          logger.warn('chat stream: reading a committed turn failed', { turnId: meta.turnId, err });
          end();
        },
      );
      return;
    }
    stream.start(({ event, data }) => {
      const chunks = turnChunks(meta.turnId, event, data);
      chunks.forEach((c, i) => write(c, i === chunks.length - 1 ? `${data.epoch}:${data.seq}` : undefined));
      if (event === 'turn:end' && chunks.length) {
        write('[DONE]');
        end();
      }
    });
  }

  return r;
}
