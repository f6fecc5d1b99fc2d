import type { ParsedClientPayload } from '../contract/client-events';
import type { MessageDto } from '../contract/dto';
import { isTransientDbError } from '../db/transient-error';
import { presentMessage } from '../rooms/presenters';
import type { Message, MessageAttachment } from '../db/entities';
import { requireCan } from '../domain/permissions';
import { AppError } from '../shared/errors';
import { retry } from '../shared/retry';
import { isDuplicateKey, type QueueCounts, type TurnRepository } from './turn-repository';

/** A validated `message:send` payload: the contract's type, so a renamed field fails the type check here too. */
export type SendInput = ParsedClientPayload<'message:send'>;

export interface Accepted {
  message: MessageDto;
  turnId: string;
  duplicate: boolean;
  /** Whether `message:created` and `turn:queued` went out (always false for a new message). */
  announced: boolean;
  /** The room's busyPolicy is `interrupt`: the turns ahead of this new one are to be cancelled. */
  interrupt: boolean;
  /**
   * A new turn: what its announcement says, from what the intake holds (no read back). `position`
   * counts the session's turns running or waiting when it was accepted.
   */
  queued?: { roomId: string; sessionId: string; message: Message; position: number };
}

/**
 * How long a send whose commit outcome is unknown keeps trying before it answers with an error
 * (about two seconds): the client is waiting for its ack.
 */
const COMMIT_ATTEMPTS = 8;

/**
 * Step 1 of a turn: the user's message and a queued turn commit together, before the ack.
 * Idempotent on (session, author, clientMsgId): a repeated send, from any socket or node, returns
 * the first message and turn instead of making new ones.
 */
export class TurnIntake {
  constructor(
    private readonly repo: TurnRepository,
    private readonly limits: { queuedTurnsPerSession: number; queuedTurnsPerSender: number },
  ) {}

  /** `turnId` is the id a new turn gets; the caller holds it before the commit. */
  async accept(userId: string, input: SendInput, turnId: string): Promise<Accepted> {
    // Membership, the session, its queue and whether this is a repeated send, in one read.
    const found = await this.repo.sendContext(input.roomId, input.sessionId, userId, input.clientMsgId);
    // Membership and role first: a removed member (or a viewer) gets no answer about earlier sends either.
    if (!found) throw new AppError('ROOM_NOT_FOUND', 'Room not found');
    const { room, role, session: counts } = found;
    requireCan(role, 'messages.send');
    if (!counts) throw new AppError('SESSION_NOT_FOUND', 'Session not found');
    if (counts.sent) {
      const existing = await this.findExisting(userId, input);
      if (existing) return existing;
    }
    const attachments = input.fileIds?.length ? await this.attachable(input.roomId, input.fileIds) : null;
    const policy = room.settings?.busyPolicy ?? 'queue';
    if (policy === 'reject') await this.requireIdle(input.sessionId);
    this.checkQueue(counts);
    const q = { turnId, room, sessionId: input.sessionId, userId, content: input.content, clientMsgId: input.clientMsgId, attachments };
    try {
      // Tried again when the connection drops at the commit, which may still have happened: the
      // retry then meets the unique keys of the first rows, which wait for that transaction to
      // end, so the answer is what the database holds (a plain read could run before the commit
      // lands).
      const { message } = await retry(() => this.repo.queueTurn(q), { retryable: isTransientDbError, attempts: COMMIT_ATTEMPTS });
      return {
        message: presentMessage(message),
        turnId,
        duplicate: false,
        announced: false,
        interrupt: policy === 'interrupt',
        queued: { roomId: room.id, sessionId: input.sessionId, message, position: counts.queued + counts.running },
      };
    } catch (err) {
      if (isDuplicateKey(err)) {
        const again = await this.findExisting(userId, input);
        // Our own earlier attempt is not a duplicate of the caller's send.
        if (again) return again.turnId === turnId ? { ...again, duplicate: false } : again;
      }
      throw err;
    }
  }

  /**
   * The attached files as the message keeps them, in the order given: files of this room (another
   * room's file looks like a missing one) that are parsed; one still parsing or failed is refused
   * with its status.
   */
  private async attachable(roomId: string, fileIds: string[]): Promise<MessageAttachment[]> {
    const ids = [...new Set(fileIds)];
    const files = new Map((await this.repo.roomFiles(roomId, ids)).map((f) => [f.id, f]));
    return ids.map((id) => {
      const f = files.get(id);
      if (!f) throw new AppError('FILE_NOT_FOUND', 'An attached file was not found in this room', { fileId: id });
      if (f.status !== 'ready') {
        throw new AppError('FILE_NOT_READY', `The attached file ${f.filename} is ${f.status === 'failed' ? 'failed' : 'not ready yet'} (status: ${f.status})`, {
          fileId: id,
          status: f.status,
          ...(f.errorCode ? { errorCode: f.errorCode } : {}),
        });
      }
      return { id: f.id, filename: f.filename, kind: f.kind, sizeBytes: Number(f.sizeBytes) };
    });
  }

  /**
   * Every queued turn will cost model calls: a session holds a bounded backlog. Counted before the
   * write, so sends racing each other may pass the cap by the few in flight.
   */
  async requireQueueRoom(sessionId: string, userId: string): Promise<void> {
    this.checkQueue(await this.repo.queueCounts(sessionId, userId));
  }

  private checkQueue(counts: QueueCounts): void {
    const max = this.limits.queuedTurnsPerSession;
    const mine = this.limits.queuedTurnsPerSender;
    const { queued: all, mine: own } = counts;
    if (all >= max) {
      throw new AppError('QUEUE_FULL', `At most ${max} messages wait for an answer in a session; send again once the agents have answered`, {
        limit: 'queuedTurnsPerSession',
        max,
      });
    }
    // Fair between senders: one member cannot fill the session's queue.
    if (own >= mine) {
      throw new AppError('QUEUE_FULL', `At most ${mine} of your messages wait for an answer in a session; send again once the agents have answered yours`, {
        limit: 'queuedTurnsPerSender',
        max: mine,
      });
    }
  }

  /** busyPolicy `reject`: a message for a session whose turn runs (or waits) is refused, naming that turn. */
  private async requireIdle(sessionId: string): Promise<void> {
    const busy = await this.repo.busyTurn(sessionId);
    if (busy) {
      throw new AppError('SESSION_BUSY', `The agents are busy with turn ${busy} in this session; send again once it has ended`, {
        turnId: busy,
        sessionId,
      });
    }
  }

  private async findExisting(userId: string, input: SendInput): Promise<Accepted | null> {
    const m = await this.repo.findSent(userId, input.sessionId, input.clientMsgId);
    if (!m) return null;
    if (m.room.id !== input.roomId) throw new AppError('SESSION_NOT_FOUND', 'Session not found');
    return { message: presentMessage(m), turnId: m.turn!.id, duplicate: true, announced: m.turn!.queueAnnouncedAt != null, interrupt: false };
  }
}
