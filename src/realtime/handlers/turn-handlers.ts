import type { RealtimeContext } from '../context';
import type { EventHandlers } from '../handler-kit';
import { requireSocketAction, socketRole } from '../socket-roles';
import { can } from '../../domain/permissions';
import { AppError } from '../../shared/errors';

/** message:send (durable and idempotent before the ack) and turn:cancel. */
export function turnHandlers(ctx: RealtimeContext): Pick<EventHandlers, 'message:send' | 'turn:cancel'> {
  return {
    'message:send': async (socket, p) => {
      // Refused at once by the role the socket keeps; the turn service checks the stored role too.
      await requireSocketAction(ctx, socket, p.roomId, 'messages.send');
      await ctx.rateLimiter.hit(`msg:${socket.data.userId}`, ctx.config.limits.messagesPerMinute, 60);
      return ctx.services.turns.send(socket.data.userId, p);
    },
    'turn:cancel': async (socket, { roomId, turnId }) => {
      // Viewers cancel nothing; whose turn it is the turn service decides (its sender, or turns.cancel_any).
      const role = await socketRole(ctx, socket, roomId);
      if (!can(role, 'messages.send') && !can(role, 'turns.cancel_any')) {
        throw new AppError('FORBIDDEN', `A ${role} may not cancel turns in this room`, { role, action: 'turns.cancel_any' });
      }
      return ctx.services.turns.cancel(socket.data.userId, roomId, turnId);
    },
  };
}
