import { onEvent, type AppSocket } from '../handler-kit';
import type { RealtimeContext } from '../context';
import { cancelPayload, sendPayload } from '../socket-schemas';

/** message:send (durable and idempotent before the ack) and turn:cancel. */
export function registerTurnHandlers(socket: AppSocket, ctx: RealtimeContext): void {
  const opts = { maxBytes: ctx.config.limits.socketPayloadBytes, logger: ctx.logger };
  const sendSchema = sendPayload(ctx.config.limits.messageChars);

  onEvent(socket, 'message:send', sendSchema, opts, async (p) => {
    // Membership is checked by the turn service, which loads the room anyway.
    await ctx.rateLimiter.hit(`msg:${socket.data.userId}`, ctx.config.limits.messagesPerMinute, 60);
    return ctx.services.turns.send(socket.data.userId, p);
  });

  onEvent(socket, 'turn:cancel', cancelPayload, opts, async ({ roomId, turnId }) => {
    return ctx.services.turns.cancel(socket.data.userId, roomId, turnId);
  });
}
