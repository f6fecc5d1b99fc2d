import type { Redis } from 'ioredis';
import type { LoggedRoomEvent, RoomEvent, RoomEventName, RoomEventPayloads } from '../contract/events';
import type { Broadcaster } from './broadcaster';
import type { Deliver } from './memory-broadcaster';
import type { ReplayLog, ReplayResult } from './replay-log';

/**
 * One atomic step per room event: take the next seq, append to the room's stream (bounded, with a
 * TTL), and publish on the one room-events channel. Because the three happen in one script and all
 * nodes read one channel, every node sees a room's events in seq order, whichever node sent them.
 */
const PUBLISH_SCRIPT = `
local seq = redis.call('INCR', KEYS[1])
local msg = '{"roomId":' .. cjson.encode(ARGV[1]) .. ',"event":' .. cjson.encode(ARGV[2]) .. ',"seq":' .. seq .. ',"ts":' .. ARGV[3] .. ',"payload":' .. ARGV[4] .. '}'
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], seq .. '-0', 'm', msg)
redis.call('EXPIRE', KEYS[2], ARGV[6])
redis.call('PUBLISH', ARGV[7], msg)
return seq
`;

interface WireMessage {
  roomId: string;
  event: RoomEventName;
  seq: number;
  ts: number;
  payload: Record<string, unknown>;
}

export interface RedisBroadcasterOptions {
  keyPrefix: string;
  maxEvents: number;
  ttlSeconds: number;
}

const toLogged = (m: WireMessage): LoggedRoomEvent =>
  ({ event: m.event, data: { ...m.payload, roomId: m.roomId, seq: m.seq, ts: m.ts } }) as LoggedRoomEvent;

export const roomEventsChannel = (keyPrefix: string) => `${keyPrefix}room-events`;

/** Scaled mode. Publish-only: usable from a worker process that has no sockets. */
export class RedisBroadcaster implements Broadcaster, ReplayLog {
  constructor(
    private readonly redis: Redis,
    private readonly opts: RedisBroadcasterOptions,
  ) {
    redis.defineCommand('pantheonPublish', { numberOfKeys: 2, lua: PUBLISH_SCRIPT });
  }

  // Keys of one room share a hash tag so the script also runs on Redis Cluster.
  private seqKey = (roomId: string) => `${this.opts.keyPrefix}room:{${roomId}}:seq`;
  private logKey = (roomId: string) => `${this.opts.keyPrefix}room:{${roomId}}:log`;

  async publish<E extends RoomEventName>(roomId: string, event: E, payload: RoomEventPayloads[E]): Promise<RoomEvent<E>> {
    const ts = Date.now();
    const seq = Number(
      await (this.redis as unknown as { pantheonPublish(...args: (string | number)[]): Promise<number> }).pantheonPublish(
        this.seqKey(roomId),
        this.logKey(roomId),
        roomId,
        event,
        ts,
        JSON.stringify(payload),
        this.opts.maxEvents,
        this.opts.ttlSeconds,
        roomEventsChannel(this.opts.keyPrefix),
      ),
    );
    return { ...payload, roomId, seq, ts } as RoomEvent<E>;
  }

  async currentSeq(roomId: string): Promise<number> {
    return Number((await this.redis.get(this.seqKey(roomId))) ?? 0);
  }

  async since(roomId: string, lastSeq: number): Promise<ReplayResult> {
    const seq = await this.currentSeq(roomId);
    if (lastSeq > seq) return { gap: true, seq };
    if (lastSeq === seq) return { gap: false, events: [], seq };
    if (seq - lastSeq > this.opts.maxEvents) return { gap: true, seq };
    const entries = await this.redis.xrange(this.logKey(roomId), `${lastSeq + 1}-0`, '+');
    const events = entries.map(([, fields]) => toLogged(JSON.parse(fields[1]!) as WireMessage));
    if (events.length === 0 || events[0]!.data.seq !== lastSeq + 1) return { gap: true, seq };
    return { gap: false, events, seq: Math.max(seq, events.at(-1)!.data.seq) };
  }

  async close() {}
}

export function createRedisBroadcaster(redis: Redis, opts: RedisBroadcasterOptions): RedisBroadcaster {
  return new RedisBroadcaster(redis, opts);
}

/** Subscribes to the room-events channel and hands each event to local delivery, in order. */
export async function subscribeRoomEvents(sub: Redis, keyPrefix: string, deliver: Deliver): Promise<() => Promise<void>> {
  const channel = roomEventsChannel(keyPrefix);
  const onMessage = (ch: string, raw: string) => {
    if (ch !== channel) return;
    let m: WireMessage;
    try {
      m = JSON.parse(raw) as WireMessage;
    } catch {
      return;
    }
    const { event, data } = toLogged(m);
    deliver(m.roomId, event, data as RoomEvent);
  };
  sub.on('message', onMessage);
  await sub.subscribe(channel);
  return async () => {
    sub.off('message', onMessage);
    await sub.unsubscribe(channel).catch(() => undefined);
  };
}
