import { Router } from 'express';
import type { Services } from '../../services';
import { agentKey, createAgentBody, updateAgentBody } from '../../rooms/schemas';
import { AppError } from '../../shared/errors';
import { currentUser } from '../middleware/auth';
import { body } from '../middleware/validate';
import { idParam } from './ids';

const keyParam = (v: unknown): string => {
  const r = agentKey.safeParse(v);
  if (!r.success) throw new AppError('AGENT_NOT_FOUND', 'No such agent');
  return r.data;
};

export function agentRoutes(s: Services): Router {
  const r = Router();
  // Every tool agents may be granted, built in and from MCP servers, with input schemas and availability.
  r.get('/tools', async (req, res) => {
    currentUser(req);
    res.json(s.tools.list());
  });
  r.get('/rooms/:roomId/agents', async (req, res) => {
    res.json(await s.agents.list(currentUser(req).id, idParam(req.params.roomId, 'ROOM_NOT_FOUND')));
  });
  r.post('/rooms/:roomId/agents', async (req, res) => {
    const roomId = idParam(req.params.roomId, 'ROOM_NOT_FOUND');
    res.status(201).json(await s.agents.create(currentUser(req).id, roomId, body(req, createAgentBody)));
  });
  r.get('/rooms/:roomId/agents/:agentKey', async (req, res) => {
    const roomId = idParam(req.params.roomId, 'ROOM_NOT_FOUND');
    res.json(await s.agents.get(currentUser(req).id, roomId, keyParam(req.params.agentKey)));
  });
  r.patch('/rooms/:roomId/agents/:agentKey', async (req, res) => {
    const roomId = idParam(req.params.roomId, 'ROOM_NOT_FOUND');
    const key = keyParam(req.params.agentKey);
    res.json(await s.agents.update(currentUser(req).id, roomId, key, body(req, updateAgentBody)));
  });
  r.delete('/rooms/:roomId/agents/:agentKey', async (req, res) => {
    const roomId = idParam(req.params.roomId, 'ROOM_NOT_FOUND');
    await s.agents.remove(currentUser(req).id, roomId, keyParam(req.params.agentKey));
    res.status(204).end();
  });
  return r;
}
