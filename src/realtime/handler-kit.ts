import { z } from 'zod';
import {
  clientEvents,
  messageEditPayload,
  messageSendPayload,
  type ClientEventName,
  type ClientResult,
  type ParsedClientPayload,
} from '../contract/client-events';
import type { AppConfig } from '../config/config';
import { AppError, toErrorBody } from '../shared/errors';
import type { Logger } from '../shared/logger';
import { jsonByteLength, parseInput } from '../shared/validation';
import type { AppSocket } from './context';
import type { InboundGuard } from './inbound-guard';

export type { AppSocket } from './context';

type AckFn = (a: unknown) => void;

/** A handler result may carry a function under this key; it runs right after the ack is sent. */
export const AFTER_ACK = Symbol('afterAck');

export type HandlerResult<E extends ClientEventName> = ClientResult<E> & { [AFTER_ACK]?: () => void };
/** Handles one validated event of one socket; what it returns is the ack's body. */
export type EventHandler<E extends ClientEventName> = (socket: AppSocket, payload: ParsedClientPayload<E>) => Promise<HandlerResult<E>>;
/** One handler per client event: an event of the contract without a handler fails the type check. */
export type EventHandlers = { [E in ClientEventName]: EventHandler<E> };
export type PayloadSchemas = { [E in ClientEventName]: z.ZodType<ParsedClientPayload<E>> };

/** The contract's payload schemas with this server's limits applied; built once per server. */
export function payloadSchemas(limits: AppConfig['limits']): PayloadSchemas {
  return {
    'room:join': clientEvents['room:join'].payload,
    'room:leave': clientEvents['room:leave'].payload,
    typing: clientEvents.typing.payload,
    'turn:cancel': clientEvents['turn:cancel'].payload,
    'tool:approve': clientEvents['tool:approve'].payload,
    'message:send': messageSendPayload.extend({ content: z.string().trim().min(1).max(limits.messageChars) }),
    'message:edit': messageEditPayload.extend({ content: z.string().trim().min(1).max(limits.messageChars) }),
    'message:delete': clientEvents['message:delete'].payload,
    'turn:regenerate': clientEvents['turn:regenerate'].payload,
  };
}

export interface BindOptions {
  maxBytes: number;
  logger: Logger;
  guard: InboundGuard;
}

/** What a socket's events go through: `socket.onAny(listener)`, Socket.IO calling it with the socket as `this`. */
export type EventListener = (this: AppSocket, event: string, ...args: unknown[]) => void;

const noAck: AckFn = () => undefined;

/**
 * The one listener every socket shares for its inbound events (registered with `socket.onAny`,
 * which Socket.IO calls with the socket as `this`): no closure or listener per socket and event,
 * which a socket would otherwise keep for as long as it is connected. Events of the table go to
 * their handler (see handleEvent); any other is answered UNKNOWN_EVENT, after costing budget
 * like any other and counting as invalid.
 */
export function eventListener(handlers: EventHandlers, schemas: PayloadSchemas, opts: BindOptions): EventListener {
  const known = new Set<string>(Object.keys(handlers));
  return function onEvent(this: AppSocket, event: string, ...args: unknown[]) {
    const last = args.at(-1);
    const ack: AckFn = typeof last === 'function' ? (last as AckFn) : noAck;
    if (!known.has(event)) {
      void opts.guard.admit(this).then(
        () => {
          ack({ ok: false, error: { code: 'UNKNOWN_EVENT', message: `Unknown event "${String(event).slice(0, 64)}"` } });
          refuseInvalid(this, opts);
        },
        (err: unknown) => ack({ ok: false, error: toErrorBody(err).body }),
      );
      return;
    }
    const name = event as ClientEventName;
    const payload = args.length > 1 || typeof last !== 'function' ? args[0] : undefined;
    void handleEvent(this, name, payload, ack, schemas[name], handlers[name], opts);
  };
}

/**
 * One inbound event: the socket's and user's event budget, size cap, zod validation, then the
 * handler; the ack always gets `{ ok: true, ...result }` or `{ ok: false, error }`, and nothing
 * thrown escapes into Socket.IO. A run of invalid events drops the socket.
 */
async function handleEvent<E extends ClientEventName>(
  socket: AppSocket,
  name: E,
  payload: unknown,
  ack: AckFn,
  schema: z.ZodType<ParsedClientPayload<E>>,
  handler: EventHandler<E>,
  opts: BindOptions,
): Promise<void> {
  let valid = false;
  try {
    await opts.guard.admit(socket);
    if (jsonByteLength(payload) > opts.maxBytes) {
      throw new AppError('PAYLOAD_TOO_LARGE', `Payload exceeds ${opts.maxBytes} bytes`);
    }
    const parsed = parseInput(schema, payload);
    valid = true;
    opts.guard.valid(socket);
    const result: Record<string | symbol, unknown> = { ...(await handler(socket, parsed)) };
    const after = result[AFTER_ACK];
    delete result[AFTER_ACK];
    ack({ ok: true, ...result });
    // Work that must follow the ack on the wire (e.g. releasing held room events after a snapshot).
    if (typeof after === 'function') after();
  } catch (err) {
    const { status, body } = toErrorBody(err);
    if (status >= 500) opts.logger.error('socket handler failed', { event: name, err });
    ack({ ok: false, error: body });
    if (!valid && body.code !== 'RATE_LIMITED') refuseInvalid(socket, opts);
  }
}

/** Counts an invalid event; a long enough run of them drops the socket. */
export function refuseInvalid(socket: AppSocket, opts: BindOptions): void {
  if (!opts.guard.invalid(socket) || !socket.connected) return;
  opts.logger.warn('socket dropped after a run of invalid events', { userId: socket.data.userId });
  socket.emit('socket:dropped', { code: 'TOO_MANY_INVALID_EVENTS', message: 'Too many invalid events in a row' });
  socket.disconnect(true);
}
