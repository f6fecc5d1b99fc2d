import { describe, expect, expectTypeOf, it } from 'vitest';
import { clientEvents, type ClientPayload, type ClientResult, type ClientToServerEvents } from '../../../src/contract/client-events';
import { TURN_STATUSES } from '../../../src/contract/enums';
import { TURN_STATUSES as ENTITY_TURN_STATUSES, type TurnStatus as EntityTurnStatus } from '../../../src/db/entities';
import type { TurnStatus } from '../../../src/contract/dto';

// The type-level checks below are enforced by `npm run typecheck` (tests are part of the project);
// the runtime checks make sure the schemas the types come from say the same thing.
describe('the socket contract', () => {
  it('derives the event map from the schemas', () => {
    expectTypeOf<ClientPayload<'message:send'>>().toEqualTypeOf<{
      roomId: string;
      sessionId: string;
      clientMsgId: string;
      content: string;
      fileIds?: string[] | undefined;
    }>();
    expectTypeOf<Parameters<ClientToServerEvents['message:send']>[0]>().toEqualTypeOf<ClientPayload<'message:send'>>();
    expectTypeOf<ClientResult<'turn:cancel'>>().toEqualTypeOf<{ status: TurnStatus; cancelRequested: boolean }>();
    // A position in a room's stream is a seq within an epoch, both ways.
    expectTypeOf<ClientPayload<'room:join'>>().toEqualTypeOf<{ roomId: string; lastSeq?: number | undefined; epoch?: string | undefined }>();
    expectTypeOf<Pick<Extract<ClientResult<'room:join'>, { mode: 'replay' }>, 'epoch' | 'seq'>>().toEqualTypeOf<{ epoch: string; seq: number }>();
    expect(Object.keys(clientEvents).sort()).toEqual([
      'message:delete',
      'message:edit',
      'message:send',
      'room:join',
      'room:leave',
      'tool:approve',
      'turn:cancel',
      'turn:regenerate',
      'typing',
    ]);
  });

  it('refuses unknown keys, __proto__ included, in every client payload', () => {
    const id = '00000000-0000-4000-8000-000000000000';
    const valid: { [E in keyof typeof clientEvents]: ClientPayload<E> } = {
      'room:join': { roomId: id, lastSeq: 3 },
      'room:leave': { roomId: id },
      'message:send': { roomId: id, sessionId: id, clientMsgId: 'c-1', content: 'hi' },
      'turn:cancel': { roomId: id, turnId: id },
      'turn:regenerate': { roomId: id, turnId: id, agentKey: 'writer' },
      'message:edit': { roomId: id, messageId: id, content: 'better', rerun: true },
      'message:delete': { roomId: id, messageId: id },
      typing: { roomId: id, sessionId: id, on: true },
      'tool:approve': { roomId: id, turnId: id, toolCallId: 'call_1', decision: 'approve' },
    };
    for (const [name, { payload }] of Object.entries(clientEvents)) {
      const sample = valid[name as keyof typeof valid];
      expect(payload.safeParse(sample).success, `${name} valid`).toBe(true);
      const withProto = JSON.parse(`{"__proto__": {"x": 1}, ${JSON.stringify(sample).slice(1)}`);
      expect(payload.safeParse(withProto).success, `${name} with __proto__`).toBe(false);
      expect(payload.safeParse({ ...sample, extra: 1 }).success, `${name} with an unknown key`).toBe(false);
    }
  });

  it('stores the same turn statuses the contract announces', () => {
    expectTypeOf<EntityTurnStatus>().toEqualTypeOf<TurnStatus>();
    expect(ENTITY_TURN_STATUSES).toBe(TURN_STATUSES);
  });
});
