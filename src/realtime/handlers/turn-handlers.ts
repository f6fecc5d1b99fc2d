import type { RealtimeContext } from '../context';
import type { EventHandlers } from '../handler-kit';
import { requireSocketAction, socketRole } from '../socket-roles';
import { can } from '../../domain/permissions';
import { AppError } from '../../shared/errors';

/** message:send (durable and idempotent before the ack), turn:cancel, tool:approve, and what members do to sent messages. */
export function turnHandlers(ctx: RealtimeContext): Pick<EventHandlers, 'message:send' | 'turn:cancel' | 'tool:approve' | 'turn:regenerate' | 'message:edit' | 'message:delete'> {
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
    // Role checked by the approvals service (`tools.approve`): viewers get FORBIDDEN.
    'tool:approve': async (socket, p) => ctx.services.approvals.answer(socket.data.userId, p),
    // A regeneration or a re-run costs model calls like a message: the same per-user limit.
    'turn:regenerate': async (socket, { roomId, turnId, agentKey }) => {
      await ctx.rateLimiter.hit(`msg:${socket.data.userId}`, ctx.config.limits.messagesPerMinute, 60);
      return ctx.services.messages.regenerate(socket.data.userId, roomId, turnId, agentKey);
    },
    'message:edit': async (socket, p) => {
      if (p.rerun) await ctx.rateLimiter.hit(`msg:${socket.data.userId}`, ctx.config.limits.messagesPerMinute, 60);
      return ctx.services.messages.edit(socket.data.userId, p);
    },
    'message:delete': async (socket, { roomId, messageId }) => ctx.services.messages.delete(socket.data.userId, roomId, messageId),
  };
}
