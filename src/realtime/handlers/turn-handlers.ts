import type { RealtimeContext } from '../context';
import type { EventHandlers } from '../handler-kit';

/** message:send (durable and idempotent before the ack) and turn:cancel. */
export function turnHandlers(ctx: RealtimeContext): Pick<EventHandlers, 'message:send' | 'turn:cancel'> {
  return {
    'message:send': async (socket, p) => {
      // Membership is checked by the turn service, which loads the room anyway.
      await ctx.rateLimiter.hit(`msg:${socket.data.userId}`, ctx.config.limits.messagesPerMinute, 60);
      return ctx.services.turns.send(socket.data.userId, p);
    },
    'turn:cancel': async (socket, { roomId, turnId }) => ctx.services.turns.cancel(socket.data.userId, roomId, turnId),
  };
}
