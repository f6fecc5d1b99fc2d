// Wire shapes shared by the server, the REST API and the typed client SDK. No server imports here.

export type RoomMode = 'manual' | 'roundtable' | 'orchestrator';
export type MemberRole = 'owner' | 'member';
export type UserKind = 'human' | 'bot';
export type TurnStatus = 'queued' | 'running' | 'completed' | 'partial' | 'failed' | 'cancelled' | 'interrupted';
export type MessageStatus = 'complete' | 'partial' | 'failed' | 'cancelled';
export type AuthorType = 'user' | 'agent' | 'system';
export type FileStatus = 'queued' | 'parsing' | 'ready' | 'failed';

export interface ErrorBody {
  code: string;
  message: string;
  details?: unknown;
}

export interface UserDto {
  id: string;
  sub: string;
  displayName: string;
  kind: UserKind;
}

export interface RoomDto {
  id: string;
  name: string;
  mode: RoomMode;
  settings: Record<string, unknown>;
  role?: MemberRole;
  createdAt: string;
}

export interface MemberDto {
  userId: string;
  role: MemberRole;
  displayName: string;
  kind: UserKind;
}

export interface AgentDto {
  key: string;
  name: string;
  rolePrompt: string;
  modelAlias: string;
  toolPermissions: string[];
  position: number;
}

export interface SessionDto {
  id: string;
  roomId: string;
  title: string;
  summary: string | null;
  createdAt: string;
}

export interface MessageDto {
  id: string;
  sessionId: string;
  turnId: string | null;
  authorType: AuthorType;
  authorUserId: string | null;
  agentKey: string | null;
  content: string;
  status: MessageStatus;
  modelAlias: string | null;
  clientMsgId: string | null;
  createdAt: string;
}
