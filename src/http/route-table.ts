import { z } from 'zod';
import { agentDtoSchema, memberDtoSchema, messageDtoSchema, pendingApprovalDtoSchema, roomDtoSchema, searchHitDtoSchema, sessionDtoSchema, toolDtoSchema, userDtoSchema } from '../contract/dto';
import { messageDeleteResult, messageEditResult, toolApproveResult, turnRegenerateResult } from '../contract/client-events';
import { chatBodySchema, chatStreamQuerySchema } from '../contract/chat';
import {
  addMemberBody,
  createAgentBody,
  createRoomBody,
  createSessionBody,
  editMessageBody,
  exportQuery,
  listQuery,
  regenerateBody,
  searchQuery,
  updateAgentBody,
  updateMemberBody,
  updateRoomBody,
  updateSessionBody,
} from '../rooms/schemas';
import { usageQuery } from '../turns/usage-query';
import { devLoginBody } from './routes/dev-login';
import { approveBody } from './routes/turns';

/**
 * Every HTTP route of the server, with the zod schemas of what it reads and answers: the OpenAPI
 * document (/api/v1/openapi.json) is generated from this table, and a test checks that the
 * express app registers exactly these routes. A route added to a router without a row here fails
 * that test.
 */
export type HttpMethod = 'get' | 'post' | 'patch' | 'delete';

export interface RouteResponse {
  description: string;
  /** JSON body; absent for an empty answer. */
  schema?: z.ZodType;
  /** Other media types (text/event-stream, text/plain), described in words. */
  contentType?: string;
}

export interface RouteSpec {
  method: HttpMethod;
  /** The express pattern, from the server's root: `/api/v1/rooms/:roomId`. */
  path: string;
  summary: string;
  tag: string;
  /** `bearer`: a JWT; `none`: anyone; `metrics`: METRICS_TOKEN when set. */
  auth: 'bearer' | 'none' | 'metrics';
  body?: z.ZodType | 'multipart';
  query?: z.ZodObject;
  responses: Record<number, RouteResponse>;
}

export const API_PREFIX = '/api/v1';
/** The version of the REST API the document describes (the `/api/v1` of its paths). */
export const API_VERSION = '1.0.0';

const page = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextCursor: z.string().optional() });
const items = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item) });
/** Answers whose shape is described in docs/api.md rather than by a schema of their own. */
const described = (what: string) => z.record(z.string(), z.unknown()).describe(what);

export const healthSchema = z.object({
  status: z.enum(['ok', 'degraded']),
  checks: z.record(z.string(), z.object({ ok: z.boolean(), error: z.enum(['unavailable', 'timed out']).optional() })),
});
export const fileSummarySchema = z.object({
  id: z.string(),
  filename: z.string(),
  kind: z.string(),
  sizeBytes: z.number(),
  status: z.string(),
  createdAt: z.string(),
});
const api = (p: string) => `${API_PREFIX}${p}`;

export const ROUTES: RouteSpec[] = [
  { method: 'get', path: '/metrics', summary: 'Prometheus metrics of this node', tag: 'operations', auth: 'metrics', responses: { 200: { description: 'Prometheus text format', contentType: 'text/plain' } } },
  { method: 'get', path: api('/health'), summary: 'Liveness and readiness of each part', tag: 'operations', auth: 'none', responses: { 200: { description: 'every part is up', schema: healthSchema }, 503: { description: 'a part is down', schema: healthSchema } } },
  { method: 'get', path: api('/openapi.json'), summary: 'This document', tag: 'operations', auth: 'none', responses: { 200: { description: 'OpenAPI 3.1', schema: described('the OpenAPI document') } } },
  { method: 'get', path: api('/auth/me'), summary: 'The caller, upserted from the token', tag: 'auth', auth: 'bearer', responses: { 200: { description: 'the user', schema: z.object({ user: userDtoSchema }) } } },
  { method: 'post', path: api('/rooms'), summary: 'Create a room; the caller owns it', tag: 'rooms', auth: 'bearer', body: createRoomBody, responses: { 201: { description: 'the room', schema: roomDtoSchema } } },
  { method: 'get', path: api('/rooms'), summary: "The caller's rooms", tag: 'rooms', auth: 'bearer', query: listQuery, responses: { 200: { description: 'a page of rooms with the caller\'s role', schema: page(roomDtoSchema) } } },
  { method: 'get', path: api('/rooms/:roomId'), summary: 'A room', tag: 'rooms', auth: 'bearer', responses: { 200: { description: 'the room', schema: roomDtoSchema } } },
  { method: 'patch', path: api('/rooms/:roomId'), summary: 'Rename a room, change its mode or merge its settings', tag: 'rooms', auth: 'bearer', body: updateRoomBody, responses: { 200: { description: 'the room', schema: roomDtoSchema } } },
  { method: 'get', path: api('/rooms/:roomId/members'), summary: 'Members of a room', tag: 'members', auth: 'bearer', responses: { 200: { description: 'the members', schema: items(memberDtoSchema) } } },
  { method: 'post', path: api('/rooms/:roomId/members'), summary: 'Add a member by user id or token subject', tag: 'members', auth: 'bearer', body: addMemberBody, responses: { 201: { description: 'the member', schema: memberDtoSchema } } },
  { method: 'delete', path: api('/rooms/:roomId/members/:userId'), summary: 'Remove a member (or leave)', tag: 'members', auth: 'bearer', responses: { 204: { description: 'removed; their sockets leave the room' } } },
  { method: 'get', path: api('/rooms/:roomId/agents'), summary: 'Agents of a room', tag: 'agents', auth: 'bearer', responses: { 200: { description: 'the agents', schema: items(agentDtoSchema) } } },
  { method: 'post', path: api('/rooms/:roomId/agents'), summary: 'Add an agent', tag: 'agents', auth: 'bearer', body: createAgentBody, responses: { 201: { description: 'the agent', schema: agentDtoSchema } } },
  { method: 'get', path: api('/rooms/:roomId/agents/:agentKey'), summary: 'An agent', tag: 'agents', auth: 'bearer', responses: { 200: { description: 'the agent', schema: agentDtoSchema } } },
  { method: 'patch', path: api('/rooms/:roomId/agents/:agentKey'), summary: 'Change an agent', tag: 'agents', auth: 'bearer', body: updateAgentBody, responses: { 200: { description: 'the agent', schema: agentDtoSchema } } },
  { method: 'delete', path: api('/rooms/:roomId/agents/:agentKey'), summary: 'Remove an agent', tag: 'agents', auth: 'bearer', responses: { 204: { description: 'removed' } } },
  { method: 'post', path: api('/rooms/:roomId/sessions'), summary: 'Start a session', tag: 'sessions', auth: 'bearer', body: createSessionBody, responses: { 201: { description: 'the session', schema: sessionDtoSchema } } },
  { method: 'get', path: api('/rooms/:roomId/sessions'), summary: 'Sessions of a room', tag: 'sessions', auth: 'bearer', query: listQuery, responses: { 200: { description: 'a page of sessions', schema: page(sessionDtoSchema) } } },
  { method: 'get', path: api('/sessions/:sessionId/messages'), summary: 'Messages of a session, newest first', tag: 'sessions', auth: 'bearer', query: listQuery, responses: { 200: { description: 'a page of messages', schema: page(messageDtoSchema) } } },
  {
    method: 'post',
    path: api('/sessions/:sessionId/chat'),
    summary: "Send a message (useChat's body, or { text }) and stream its turn as an AI SDK UI message stream",
    tag: 'chat',
    auth: 'bearer',
    body: chatBodySchema,
    responses: { 200: { description: 'server-sent events, x-vercel-ai-ui-message-stream: v1; each event that ends a room event has id <epoch>:<seq>', contentType: 'text/event-stream' } },
  },
  {
    method: 'get',
    path: api('/sessions/:sessionId/chat/stream'),
    summary: "Resume a turn's stream after a position (Last-Event-ID, or afterSeq and epoch)",
    tag: 'chat',
    auth: 'bearer',
    query: chatStreamQuerySchema,
    responses: {
      200: { description: 'the rest of the turn as server-sent events', contentType: 'text/event-stream' },
      204: { description: 'no turn to resume (none, or the newest ended and no position was given)' },
    },
  },
  { method: 'get', path: api('/sessions/:sessionId/turns/:turnId'), summary: 'Audit of a turn: plan, agents, tool calls, usage', tag: 'turns', auth: 'bearer', responses: { 200: { description: 'the audit', schema: described('turn, agents, usage, toolCalls, totals (docs/api.md)') } } },
  { method: 'get', path: api('/rooms/:roomId/usage'), summary: 'Usage of a room, grouped by agent, user, day, purpose or alias', tag: 'turns', auth: 'bearer', query: usageQuery, responses: { 200: { description: 'usage with totals', schema: described('usage by purpose and alias, with totals') } } },
  { method: 'post', path: api('/rooms/:roomId/files'), summary: 'Upload a file (multipart field "file")', tag: 'files', auth: 'bearer', body: 'multipart', responses: { 201: { description: 'registered; parsed in the background', schema: z.object({ id: z.string(), status: z.string() }) } } },
  { method: 'get', path: api('/rooms/:roomId/files'), summary: 'Files of a room', tag: 'files', auth: 'bearer', query: listQuery, responses: { 200: { description: 'a page of files', schema: page(fileSummarySchema) } } },
  { method: 'post', path: api('/auth/dev-login'), summary: 'A token for a name (only with DEV_LOGIN=true in embedded mode, outside production)', tag: 'auth', auth: 'none', body: devLoginBody, responses: { 201: { description: 'a token', schema: z.object({ token: z.string(), expiresInSeconds: z.number(), sub: z.string(), displayName: z.string() }) } } },
  { method: 'delete', path: api('/rooms/:roomId'), summary: 'Delete a room with everything in it (owner)', tag: 'rooms', auth: 'bearer', responses: { 204: { description: 'deleted; room:deleted reaches its sockets' } } },
  { method: 'patch', path: api('/rooms/:roomId/members/:userId'), summary: "Change a member's role", tag: 'members', auth: 'bearer', body: updateMemberBody, responses: { 200: { description: 'the member', schema: memberDtoSchema } } },
  { method: 'patch', path: api('/sessions/:sessionId'), summary: 'Rename a session', tag: 'sessions', auth: 'bearer', body: updateSessionBody, responses: { 200: { description: 'the session', schema: sessionDtoSchema } } },
  { method: 'delete', path: api('/sessions/:sessionId'), summary: 'Delete a session with its messages and turns', tag: 'sessions', auth: 'bearer', responses: { 204: { description: 'deleted' } } },
  { method: 'get', path: api('/sessions/:sessionId/export'), summary: 'A session as Markdown or JSON', tag: 'sessions', auth: 'bearer', query: exportQuery, responses: { 200: { description: 'an attachment: text/markdown or application/json', contentType: 'text/markdown' } } },
  { method: 'get', path: api('/rooms/:roomId/search'), summary: "Full-text search over a room's messages and parsed files", tag: 'rooms', auth: 'bearer', query: searchQuery, responses: { 200: { description: 'a page of hits, newest first', schema: page(searchHitDtoSchema) } } },
  { method: 'post', path: api('/sessions/:sessionId/turns/:turnId/regenerate'), summary: "Regenerate one agent's answer of a finished turn", tag: 'turns', auth: 'bearer', body: regenerateBody, responses: { 202: { description: 'the turn that streams the new version', schema: turnRegenerateResult } } },
  { method: 'patch', path: api('/messages/:messageId'), summary: 'Edit your message (and run its turn again with rerun)', tag: 'messages', auth: 'bearer', body: editMessageBody, responses: { 200: { description: 'the edited message', schema: messageEditResult } } },
  { method: 'delete', path: api('/messages/:messageId'), summary: 'Delete your message (a tombstone stays)', tag: 'messages', auth: 'bearer', responses: { 200: { description: 'deleted', schema: messageDeleteResult } } },
  { method: 'get', path: api('/tools'), summary: 'Tools agents may be granted: built in and MCP', tag: 'tools', auth: 'bearer', responses: { 200: { description: 'the tools with their input schemas', schema: items(toolDtoSchema) } } },
  { method: 'get', path: api('/rooms/:roomId/approvals'), summary: 'Tool calls waiting for approval in a room', tag: 'tools', auth: 'bearer', responses: { 200: { description: 'pending approvals', schema: items(pendingApprovalDtoSchema) } } },
  { method: 'post', path: api('/rooms/:roomId/turns/:turnId/approvals/:toolCallId'), summary: 'Approve or deny a tool call', tag: 'tools', auth: 'bearer', body: approveBody, responses: { 200: { description: 'the stored decision', schema: toolApproveResult } } },
  { method: 'get', path: api('/users/me/usage'), summary: "The caller's usage across rooms", tag: 'turns', auth: 'bearer', query: usageQuery, responses: { 200: { description: 'usage grouped as asked, with totals', schema: described('items, totals, charged, infrastructure (docs/api.md)') } } },
  { method: 'get', path: api('/files/:fileId/content'), summary: "A file's bytes", tag: 'files', auth: 'bearer', responses: { 200: { description: 'the file as uploaded, with its type and a safe Content-Disposition', contentType: 'application/octet-stream' } } },
  { method: 'delete', path: api('/files/:fileId'), summary: 'Delete a file (its uploader, or an owner or admin)', tag: 'files', auth: 'bearer', responses: { 204: { description: 'deleted' } } },
  { method: 'get', path: api('/files/:fileId'), summary: 'A file: status, metadata, parsed content when ready', tag: 'files', auth: 'bearer', responses: { 200: { description: 'the file', schema: described('status, metadata, parsed pages or row ranges when ready') } } },
];

