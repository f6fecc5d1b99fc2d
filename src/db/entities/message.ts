import { defineEntity, p } from '@mikro-orm/core';
import { AUTHOR_TYPES, MESSAGE_STATUSES } from '../../contract/enums';
import { newId, now } from './common';
import { Room } from './room';
import { Session } from './session';
import { Turn } from './turn';
import { User } from './user';

export { AUTHOR_TYPES, MESSAGE_STATUSES, type AuthorType, type MessageStatus } from '../../contract/enums';

/**
 * A message of a session: a user's (which started `turn`), an agent's answer, or a system note.
 * `clientMsgId` makes sends idempotent: unique per author and session.
 */
export const MessageSchema = defineEntity({
  name: 'Message',
  tableName: 'messages',
  uniques: [{ properties: ['session', 'authorUser', 'clientMsgId'] }],
  // History pages (by session) and a join's snapshot (by room), newest first.
  indexes: [{ properties: ['session', 'createdAt', 'id'] }, { properties: ['room', 'createdAt', 'id'] }],
  properties: {
    id: p.uuid().primary().onCreate(newId),
    room: () => p.manyToOne(Room).deleteRule('cascade'),
    session: () => p.manyToOne(Session).deleteRule('cascade'),
    turn: () => p.manyToOne(Turn).deleteRule('set null').nullable().index(),
    authorType: p.enum(AUTHOR_TYPES),
    authorUser: () => p.manyToOne(User).deleteRule('set null').nullable(),
    agentKey: p.string().length(64).nullable(),
    content: p.text(),
    status: p.enum(MESSAGE_STATUSES).default('complete'),
    modelAlias: p.string().length(64).nullable(),
    clientMsgId: p.string().length(128).nullable(),
    error: p.text().nullable(),
    createdAt: p.datetime().onCreate(now).defaultRaw('now()'),
  },
});
export class Message extends MessageSchema.class {}
MessageSchema.setClass(Message);
