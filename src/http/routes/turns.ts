import { Router } from 'express';
import type { Services } from '../../services';
import { editMessageBody, regenerateBody } from '../../rooms/schemas';
import { currentUser } from '../middleware/auth';
import { body } from '../middleware/validate';
import { idParam } from './ids';

export function turnRoutes(s: Services): Router {
  const r = Router();
  r.get('/sessions/:sessionId/turns/:turnId', async (req, res) => {
    const sessionId = idParam(req.params.sessionId, 'SESSION_NOT_FOUND');
    res.json(await s.turns.audit(currentUser(req).id, sessionId, idParam(req.params.turnId, 'TURN_NOT_FOUND')));
  });
  r.get('/rooms/:roomId/usage', async (req, res) => {
    res.json(await s.turns.roomUsage(currentUser(req).id, idParam(req.params.roomId, 'ROOM_NOT_FOUND')));
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
