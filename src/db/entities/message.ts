import { defineEntity, p } from '@mikro-orm/core';
import { AUTHOR_TYPES, MESSAGE_STATUSES } from '../../contract/enums';
import { newId, now } from './common';
import { Room } from './room';
import { Session } from './session';
import { Turn } from './turn';
import { User } from './user';

export { AUTHOR_TYPES, MESSAGE_STATUSES, type AuthorType, type MessageStatus } from '../../contract/enums';

/** A file attached to a message, as it was when the message was sent. */
export interface MessageAttachment {
  id: string;
  filename: string;
  kind: string;
  sizeBytes: number;
}

/** An earlier text of an edited message, kept for the turn's audit. */
export interface MessageEdit {
  content: string;
  /** When this text was replaced. */
  replacedAt: string;
}

/**
 * A message of a session: a user's (which started `turn`), an agent's answer, or a system note.
 * `clientMsgId` makes sends idempotent: unique per author and session. A regenerated answer is a
 * new row with `version` > 1 and `versionOf` naming the first version; an edit keeps the earlier
 * texts in `edits`; a deleted message stays as a tombstone (`deletedAt`, no text).
 */
export const MessageSchema = defineEntity({
  name: 'Message',
  tableName: 'messages',
  uniques: [{ properties: ['session', 'authorUser', 'clientMsgId'] }],
  indexes: [
    // History pages (by session) and a join's snapshot (by room), newest first.
    { properties: ['session', 'createdAt', 'id'] },
    { properties: ['room', 'createdAt', 'id'] },
    // Full-text search (src/rooms/search-service.ts); the same expression is queried.
    { name: 'messages_content_search', expression: `create index "messages_content_search" on "messages" using gin (to_tsvector('english', "content"))` },
  ],
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
    attachments: p.json<MessageAttachment[]>().nullable(),
    version: p.integer().default(1),
    versionOf: () => p.manyToOne(Message).deleteRule('cascade').nullable().index(),
    edits: p.json<MessageEdit[]>().nullable(),
    editedAt: p.datetime().nullable(),
    deletedAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(now).defaultRaw('now()'),
  },
});
export class Message extends MessageSchema.class {}
MessageSchema.setClass(Message);
