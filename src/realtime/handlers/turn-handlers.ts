import type { RealtimeContext } from '../context';
import type { EventHandlers } from '../handler-kit';

/** message:send (durable and idempotent before the ack), turn:cancel and tool:approve. */
export function turnHandlers(ctx: RealtimeContext): Pick<EventHandlers, 'message:send' | 'turn:cancel' | 'tool:approve'> {
  return {
    'message:send': async (socket, p) => {
      // Membership is checked by the turn service, which loads the room anyway.
      await ctx.rateLimiter.hit(`msg:${socket.data.userId}`, ctx.config.limits.messagesPerMinute, 60);
      return ctx.services.turns.send(socket.data.userId, p);
    },
    'turn:cancel': async (socket, { roomId, turnId }) => ctx.services.turns.cancel(socket.data.userId, roomId, turnId),
    // Role checked by the approvals service (`tools.approve`): viewers get FORBIDDEN.
    'tool:approve': async (socket, p) => ctx.services.approvals.answer(socket.data.userId, p),
  };
}
