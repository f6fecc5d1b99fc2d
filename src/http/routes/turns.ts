import { Router } from 'express';
import { z } from 'zod';
import { toolApprovePayload } from '../../contract/client-events';
import type { Services } from '../../services';
import { AppError } from '../../shared/errors';
import { editMessageBody, regenerateBody } from '../../rooms/schemas';
import { currentUser } from '../middleware/auth';
import { body } from '../middleware/validate';
import { idParam } from './ids';
import { query } from '../middleware/validate';
import { usageQuery } from '../../turns/usage-query';

/** The body of a REST approval: the socket payload without what the path names. */
export const approveBody = toolApprovePayload.omit({ roomId: true, turnId: true, toolCallId: true });
const toolCallIdParam = z.string().min(1).max(128);

export function turnRoutes(s: Services): Router {
  const r = Router();
  r.get('/sessions/:sessionId/turns/:turnId', async (req, res) => {
    const sessionId = idParam(req.params.sessionId, 'SESSION_NOT_FOUND');
    res.json(await s.turns.audit(currentUser(req).id, sessionId, idParam(req.params.turnId, 'TURN_NOT_FOUND')));
  });
  r.get('/rooms/:roomId/usage', async (req, res) => {
    res.json(await s.turns.roomUsage(currentUser(req).id, idParam(req.params.roomId, 'ROOM_NOT_FOUND'), query(req, usageQuery)));
  });
  r.get('/users/me/usage', async (req, res) => {
    res.json(await s.turns.userUsage(currentUser(req).id, query(req, usageQuery)));
  });
  // Tool calls waiting for a member's approval (same rules as the socket event `tool:approve`).
  r.get('/rooms/:roomId/approvals', async (req, res) => {
    res.json(await s.approvals.pendingFor(currentUser(req).id, idParam(req.params.roomId, 'ROOM_NOT_FOUND')));
  });
  r.post('/rooms/:roomId/turns/:turnId/approvals/:toolCallId', async (req, res) => {
    const roomId = idParam(req.params.roomId, 'ROOM_NOT_FOUND');
    const turnId = idParam(req.params.turnId, 'TURN_NOT_FOUND');
    const toolCallId = toolCallIdParam.safeParse(req.params.toolCallId);
    if (!toolCallId.success) throw new AppError('APPROVAL_NOT_FOUND', 'No tool call waits for approval under this id');
    res.json(await s.approvals.answer(currentUser(req).id, { roomId, turnId, toolCallId: toolCallId.data, ...body(req, approveBody) }));
  });
  r.post('/sessions/:sessionId/turns/:turnId/regenerate', async (req, res) => {
    const sessionId = idParam(req.params.sessionId, 'SESSION_NOT_FOUND');
    const turnId = idParam(req.params.turnId, 'TURN_NOT_FOUND');
    const { agentKey } = body(req, regenerateBody);
    res.status(202).json(await s.messages.regenerateInSession(currentUser(req).id, sessionId, turnId, agentKey));
  });
  r.patch('/messages/:messageId', async (req, res) => {
    const messageId = idParam(req.params.messageId, 'MESSAGE_NOT_FOUND');
    res.json(await s.messages.editById(currentUser(req).id, messageId, body(req, editMessageBody)));
  });
  r.delete('/messages/:messageId', async (req, res) => {
    res.json(await s.messages.deleteById(currentUser(req).id, idParam(req.params.messageId, 'MESSAGE_NOT_FOUND')));
  });
  return r;
}
