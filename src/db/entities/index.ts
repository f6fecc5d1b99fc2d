export * from './user';
export * from './room';
export * from './agent';
export * from './session';
export * from './turn';
export * from './message';
export * from './usage-event';
export * from './tool-call-event';
export * from './file';
export * from './tool-approval';
export * from './budget-ledger';

import { User } from './user';
import { Room, RoomMember } from './room';
import { Agent } from './agent';
import { Session } from './session';
import { Turn } from './turn';
import { Message } from './message';
import { LlmUsageEvent } from './usage-event';
import { ToolCallEvent } from './tool-call-event';
import { StoredFile } from './file';
import { ToolApproval } from './tool-approval';
import { BudgetLedger } from './budget-ledger';

export const ALL_ENTITIES = [
  User,
  Room,
  RoomMember,
  Agent,
  Session,
  Turn,
  Message,
  LlmUsageEvent,
  ToolCallEvent,
  StoredFile,
  ToolApproval,
  BudgetLedger,
];
