import { defineEntity, p } from '@mikro-orm/core';
import { USER_KINDS } from '../../contract/enums';
import { newId, now } from './common';

export { USER_KINDS, type UserKind } from '../../contract/enums';

/** A person or bot, keyed by the JWT `sub`; created on first authenticated request. */
export const UserSchema = defineEntity({
  name: 'User',
  tableName: 'users',
  properties: {
    id: p.uuid().primary().onCreate(newId),
    sub: p.string().length(255).unique(),
    displayName: p.string().length(200),
    kind: p.enum(USER_KINDS).default('human'),
    createdAt: p.datetime().onCreate(now).defaultRaw('now()'),
    updatedAt: p.datetime().onCreate(now).onUpdate(now).defaultRaw('now()'),
  },
});
export class User extends UserSchema.class {}
UserSchema.setClass(User);
