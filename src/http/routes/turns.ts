import { Router } from 'express';
import type { Services } from '../../services';
import { currentUser } from '../middleware/auth';
import { idParam } from './ids';
import { query } from '../middleware/validate';
import { usageQuery } from '../../turns/usage-query';

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
  return r;
}
