import { Router } from 'express';
import type { Services } from '../../services';
import { addMemberBody, createRoomBody, createSessionBody, exportQuery, listQuery, searchQuery, updateMemberBody, updateRoomBody, updateSessionBody } from '../../rooms/schemas';
import { currentUser } from '../middleware/auth';
import { body, query } from '../middleware/validate';
import { idParam } from './ids';

export function roomRoutes(s: Services): Router {
  const r = Router();

  r.post('/rooms', async (req, res) => {
    res.status(201).json(await s.rooms.create(currentUser(req), body(req, createRoomBody)));
  });
  r.get('/rooms', async (req, res) => {
    res.json(await s.rooms.list(currentUser(req).id, query(req, listQuery)));
  });
  r.get('/rooms/:roomId', async (req, res) => {
    res.json(await s.rooms.get(currentUser(req).id, idParam(req.params.roomId, 'ROOM_NOT_FOUND')));
  });
  r.patch('/rooms/:roomId', async (req, res) => {
    const roomId = idParam(req.params.roomId, 'ROOM_NOT_FOUND');
    res.json(await s.rooms.update(currentUser(req).id, roomId, body(req, updateRoomBody)));
  });

  r.delete('/rooms/:roomId', async (req, res) => {
    await s.rooms.deleteRoom(currentUser(req).id, idParam(req.params.roomId, 'ROOM_NOT_FOUND'));
    res.status(204).end();
  });

  r.get('/rooms/:roomId/members', async (req, res) => {
    res.json(await s.rooms.listMembers(currentUser(req).id, idParam(req.params.roomId, 'ROOM_NOT_FOUND')));
  });
  r.post('/rooms/:roomId/members', async (req, res) => {
    const roomId = idParam(req.params.roomId, 'ROOM_NOT_FOUND');
    res.status(201).json(await s.rooms.addMember(currentUser(req).id, roomId, body(req, addMemberBody)));
  });
  r.patch('/rooms/:roomId/members/:userId', async (req, res) => {
    const roomId = idParam(req.params.roomId, 'ROOM_NOT_FOUND');
    const target = idParam(req.params.userId, 'USER_NOT_FOUND');
    res.json(await s.rooms.updateMember(currentUser(req).id, roomId, target, body(req, updateMemberBody)));
  });
  r.delete('/rooms/:roomId/members/:userId', async (req, res) => {
    const roomId = idParam(req.params.roomId, 'ROOM_NOT_FOUND');
    await s.rooms.removeMember(currentUser(req).id, roomId, idParam(req.params.userId, 'USER_NOT_FOUND'));
    res.status(204).end();
  });

  r.post('/rooms/:roomId/sessions', async (req, res) => {
    const roomId = idParam(req.params.roomId, 'ROOM_NOT_FOUND');
    const { title } = body(req, createSessionBody);
    res.status(201).json(await s.sessions.create(currentUser(req).id, roomId, title));
  });
  r.get('/rooms/:roomId/sessions', async (req, res) => {
    const roomId = idParam(req.params.roomId, 'ROOM_NOT_FOUND');
    res.json(await s.sessions.list(currentUser(req).id, roomId, query(req, listQuery)));
  });
  r.patch('/sessions/:sessionId', async (req, res) => {
    const sessionId = idParam(req.params.sessionId, 'SESSION_NOT_FOUND');
    const { title } = body(req, updateSessionBody);
    res.json(await s.sessions.rename(currentUser(req).id, sessionId, title));
  });
  r.delete('/sessions/:sessionId', async (req, res) => {
    await s.sessions.delete(currentUser(req).id, idParam(req.params.sessionId, 'SESSION_NOT_FOUND'));
    res.status(204).end();
  });
  r.get('/sessions/:sessionId/messages', async (req, res) => {
    const sessionId = idParam(req.params.sessionId, 'SESSION_NOT_FOUND');
    res.json(await s.sessions.messages(currentUser(req).id, sessionId, query(req, listQuery)));
  });
  r.get('/sessions/:sessionId/export', async (req, res) => {
    const sessionId = idParam(req.params.sessionId, 'SESSION_NOT_FOUND');
    const out = await s.sessions.export(currentUser(req).id, sessionId, query(req, exportQuery).format);
    res.setHeader('Content-Disposition', `attachment; filename="${out.filename}"`);
    res.type(out.contentType).send(out.body);
  });
  r.get('/rooms/:roomId/search', async (req, res) => {
    const roomId = idParam(req.params.roomId, 'ROOM_NOT_FOUND');
    res.json(await s.search.search(currentUser(req).id, roomId, query(req, searchQuery)));
  });

  return r;
}
