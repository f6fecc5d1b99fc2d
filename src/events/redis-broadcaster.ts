import type { Redis } from 'ioredis';
import type { LoggedRoomEvent, RoomEvent, RoomEventName, RoomEventPayloads } from '../contract/events';
import type { Broadcaster } from './broadcaster';
import type { ReplayLog, ReplayResult } from './replay-log';
import { newEpoch, type StreamPosition } from './stream-position';

/**
 * A room's stream head is one hash, `seq` and `epoch`, so the two live and die together. A head
 * that is made (first use, or Redis lost it) takes the caller's new epoch and drops any log left
 * from an earlier one: the log's entries are keyed by seq, which restarts at 1.
 */
const ENSURE_HEAD = `
if redis.call('HSETNX', KEYS[1], 'epoch', ARGV[1]) == 1 then redis.call('DEL', KEYS[2]) end
`;

/**
 * One atomic step per room event: take the next seq, append to the room's stream (bounded, with a
 * TTL), and publish on the one room-events channel. Because the three happen in one script and all
 * nodes read one channel, every node sees a room's events in seq order, whichever node sent them.
 */
const PUBLISH_SCRIPT = `${ENSURE_HEAD}
local epoch = redis.call('HGET', KEYS[1], 'epoch')
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
local msg = '{"roomId":' .. cjson.encode(ARGV[2]) .. ',"event":' .. cjson.encode(ARGV[3]) .. ',"epoch":' .. cjson.encode(epoch) .. ',"seq":' .. seq .. ',"ts":' .. ARGV[4] .. ',"payload":' .. ARGV[5] .. '}'
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[6], seq .. '-0', 'm', msg)
redis.call('EXPIRE', KEYS[2], ARGV[7])
redis.call('PUBLISH', ARGV[8], msg)
return {epoch, seq}
`;

const HEAD_SCRIPT = `${ENSURE_HEAD}
return redis.call('HMGET', KEYS[1], 'epoch', 'seq')
`;

/** A room event as the channel and the stream carry it. */
export interface WireMessage {
  roomId: string;
  event: RoomEventName;
  epoch: string;
  seq: number;
  ts: number;
  payload: Record<string, unknown>;
}

export interface RedisBroadcasterOptions {
  keyPrefix: string;
  maxEvents: number;
  ttlSeconds: number;
}

export const toLogged = (m: WireMessage): LoggedRoomEvent =>
  ({ event: m.event, data: { ...m.payload, roomId: m.roomId, epoch: m.epoch, seq: m.seq, ts: m.ts } }) as LoggedRoomEvent;

export const roomEventsChannel = (keyPrefix: string) => `${keyPrefix}room-events`;

interface Scripts {
  pantheonPublish(...args: (string | number)[]): Promise<[string, number]>;
  pantheonHead(...args: string[]): Promise<[string, string | null]>;
}

/** Scaled mode. Publish-only: usable from a worker process that has no sockets. */
export class RedisBroadcaster implements Broadcaster, ReplayLog {
  constructor(
    private readonly redis: Redis,
    private readonly opts: RedisBroadcasterOptions,
  ) {
    redis.defineCommand('pantheonPublish', { numberOfKeys: 2, lua: PUBLISH_SCRIPT });
    redis.defineCommand('pantheonHead', { numberOfKeys: 2, lua: HEAD_SCRIPT });
  }

  private get scripts(): Scripts {
    return this.redis as unknown as Scripts;
  }

  // Keys of one room share a hash tag so the scripts also run on Redis Cluster.
  private headKey = (roomId: string) => `${this.opts.keyPrefix}room:{${roomId}}:head`;
  private logKey = (roomId: string) => `${this.opts.keyPrefix}room:{${roomId}}:log`;

  async publish<E extends RoomEventName>(roomId: string, event: E, payload: RoomEventPayloads[E]): Promise<RoomEvent<E>> {
    const ts = Date.now();
    const [epoch, seq] = await this.scripts.pantheonPublish(
      this.headKey(roomId),
      this.logKey(roomId),
      newEpoch(),
      roomId,
      event,
      ts,
      JSON.stringify(payload),
      this.opts.maxEvents,
      this.opts.ttlSeconds,
      roomEventsChannel(this.opts.keyPrefix),
    );
    return { ...payload, roomId, epoch, seq: Number(seq), ts } as RoomEvent<E>;
  }

  async head(roomId: string): Promise<StreamPosition> {
    const [epoch, seq] = await this.scripts.pantheonHead(this.headKey(roomId), this.logKey(roomId), newEpoch());
    return { epoch, seq: Number(seq ?? 0) };
  }

  async since(roomId: string, lastSeq: number, epoch?: string): Promise<ReplayResult> {
    const head = await this.head(roomId);
    if ((epoch !== undefined && epoch !== head.epoch) || lastSeq > head.seq) return { gap: true, ...head };
    if (lastSeq === head.seq) return { gap: false, events: [], ...head };
    if (head.seq - lastSeq > this.opts.maxEvents) return { gap: true, ...head };
    const entries = await this.redis.xrange(this.logKey(roomId), `${lastSeq + 1}-0`, '+');
    const events = entries.map(([, fields]) => toLogged(JSON.parse(fields[1]!) as WireMessage));
    const first = events[0]?.data;
    // The stream may have restarted between the two reads: its entries then carry another epoch.
    if (!first || first.seq !== lastSeq + 1 || first.epoch !== head.epoch) return { gap: true, ...head };
    return { gap: false, events, epoch: head.epoch, seq: Math.max(head.seq, events.at(-1)!.data.seq) };
  }

  /** Drops a deleted room's head (counter and epoch) and replay log. */
  async forget(roomId: string): Promise<void> {
    await this.redis.del(this.headKey(roomId), this.logKey(roomId));
  }

  async close() {}
}

export function createRedisBroadcaster(redis: Redis, opts: RedisBroadcasterOptions): RedisBroadcaster {
  return new RedisBroadcaster(redis, opts);
}
