import { queuePosition, type TurnIntake } from '../../turns/turn-intake';
import type { Orm } from '../../db/orm';
import type { TurnService } from '../../turns/turn-service';
import { onEvent, type AppSocket } from '../handler-kit';
import type { RealtimeContext } from '../context';
import { cancelPayload, sendPayload } from '../socket-schemas';

/** message:send (durable and idempotent before the ack) and turn:cancel. */
export function turnHandlers(deps: { orm: Orm; intake: TurnIntake; turns: TurnService; kick: (sessionId: string) => void }) {
  return (socket: AppSocket, ctx: RealtimeContext) => {
    const opts = { maxBytes: ctx.config.limits.socketPayloadBytes, logger: ctx.logger };
    const sendSchema = sendPayload(ctx.config.limits.messageChars);

    onEvent(socket, 'message:send', sendSchema, opts, async (p) => {
      // Membership is checked by the intake, which loads the room anyway.
      await ctx.rateLimiter.hit(`msg:${socket.data.userId}`, ctx.config.limits.messagesPerMinute, 60);
      const accepted = await deps.intake.accept(socket.data.userId, p);
      if (!accepted.duplicate) {
        await ctx.broadcaster.publish(p.roomId, 'message:created', { message: accepted.message });
        await ctx.broadcaster.publish(p.roomId, 'turn:queued', {
          turnId: accepted.turnId,
          sessionId: p.sessionId,
          messageId: accepted.message.id,
          position: await queuePosition(deps.orm, p.sessionId, accepted.turnId),
        });
        deps.kick(p.sessionId);
      }
      return { messageId: accepted.message.id, turnId: accepted.turnId, duplicate: accepted.duplicate };
    });

    onEvent(socket, 'turn:cancel', cancelPayload, opts, async ({ roomId, turnId }) => {
      return deps.turns.cancel(socket.data.userId, roomId, turnId);
    });
  };
}
