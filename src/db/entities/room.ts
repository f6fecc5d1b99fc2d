import { defineEntity, p } from '@mikro-orm/core';
import { MEMBER_ROLES, ROOM_MODES } from '../../contract/enums';
import type { RoomSettings } from '../../contract/room-settings';
import { newId, now } from './common';
import { User } from './user';

export type { RoomSettings } from '../../contract/room-settings';
export { MEMBER_ROLES, ROOM_MODES, type MemberRole, type RoomMode } from '../../contract/enums';


export const RoomSchema = defineEntity({
  name: 'Room',
  tableName: 'rooms',
  properties: {
    id: p.uuid().primary().onCreate(newId),
    name: p.string().length(200),
    mode: p.enum(ROOM_MODES).default('manual'),
    settings: p.json<RoomSettings>(),
    createdBy: () => p.manyToOne(User).deleteRule('restrict'),
    createdAt: p.datetime().onCreate(now).defaultRaw('now()'),
    updatedAt: p.datetime().onCreate(now).onUpdate(now).defaultRaw('now()'),
  },
});
export class Room extends RoomSchema.class {}
RoomSchema.setClass(Room);

export const RoomMemberSchema = defineEntity({
  name: 'RoomMember',
  tableName: 'room_members',
  uniques: [{ properties: ['room', 'user'] }],
  properties: {
    id: p.uuid().primary().onCreate(newId),
    room: () => p.manyToOne(Room).deleteRule('cascade'),
    user: () => p.manyToOne(User).deleteRule('cascade').index(),
    role: p.enum(MEMBER_ROLES).default('member'),
    createdAt: p.datetime().onCreate(now).defaultRaw('now()'),
  },
});
export class RoomMember extends RoomMemberSchema.class {}
RoomMemberSchema.setClass(RoomMember);
