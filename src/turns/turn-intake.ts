import type { ParsedClientPayload } from '../contract/client-events';
import type { MessageDto } from '../contract/dto';
import { presentMessage } from '../rooms/presenters';
import { AppError } from '../shared/errors';
import { isDuplicateKey, type TurnRepository } from './turn-repository';

/** A validated `message:send` payload: the contract's type, so a renamed field fails the type check here too. */
export type SendInput = ParsedClientPayload<'message:send'>;

export interface Accepted {
  message: MessageDto;
  turnId: string;
  duplicate: boolean;
}

/**
 * Step 1 of a turn: the user's message and a queued turn commit together, before the ack.
 * Idempotent on (session, author, clientMsgId): a repeated send, from any socket or node, returns
 * the first message and turn instead of making new ones.
 */
export class TurnIntake {
  constructor(
    private readonly repo: TurnRepository,
    private readonly limits: { queuedTurnsPerSession: number },
  ) {}

  async accept(userId: string, input: SendInput): Promise<Accepted> {
    // Membership first: a removed member gets no answer about earlier sends either.
    const { room } = await this.repo.requireMember(input.roomId, userId);
    const existing = await this.findExisting(userId, input);
    if (existing) return existing;
    const session = await this.repo.findSession(input.roomId, input.sessionId);
    if (!session) throw new AppError('SESSION_NOT_FOUND', 'Session not found');
    if (input.fileIds?.length) {
      // Attached files must be files of this room; another room's file looks like a missing one.
      const found = await this.repo.countRoomFiles(input.roomId, input.fileIds);
      if (found !== new Set(input.fileIds).size) throw new AppError('FILE_NOT_FOUND', 'An attached file was not found in this room');
    }
    await this.requireQueueRoom(session.id);
    try {
      const { message, turnId } = await this.repo.queueTurn({ room, sessionId: session.id, userId, content: input.content, clientMsgId: input.clientMsgId });
      return { message: presentMessage(message), turnId, duplicate: false };
    } catch (err) {
      if (isDuplicateKey(err)) {
        const again = await this.findExisting(userId, input);
        if (again) return again;
      }
      throw err;
    }
  }

  /**
   * Every queued turn will cost model calls: a session holds a bounded backlog. Counted before the
   * write, so sends racing each other may pass the cap by the few in flight.
   */
  private async requireQueueRoom(sessionId: string): Promise<void> {
    const max = this.limits.queuedTurnsPerSession;
    if ((await this.repo.countQueuedTurns(sessionId)) >= max) {
      throw new AppError('QUEUE_FULL', `At most ${max} messages wait for an answer in a session; send again once the agents have answered`, {
        limit: 'queuedTurnsPerSession',
        max,
      });
    }
  }

  private async findExisting(userId: string, input: SendInput): Promise<Accepted | null> {
    const m = await this.repo.findSent(userId, input.sessionId, input.clientMsgId);
    if (!m) return null;
    if (m.room.id !== input.roomId) throw new AppError('SESSION_NOT_FOUND', 'Session not found');
    return { message: presentMessage(m), turnId: m.turn!.id, duplicate: true };
  }
}
