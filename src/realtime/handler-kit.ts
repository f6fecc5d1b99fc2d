import type { Socket } from 'socket.io';
import type { z } from 'zod';
import type { ClientToServerEvents, ServerToClientEvents, SocketData } from '../contract/events';
import { AppError, toErrorBody } from '../shared/errors';
import type { Logger } from '../shared/logger';
import { jsonByteLength, parseInput } from '../shared/validation';

export type AppSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
type AckFn = (a: unknown) => void;

/** A handler result may carry a function under this key; it runs right after the ack is sent. */
export const AFTER_ACK = Symbol('afterAck');

/**
 * Registers one inbound event: size cap, zod validation, then the handler; the ack always gets
 * `{ ok: true, ...result }` or `{ ok: false, error }`, and nothing thrown escapes into Socket.IO.
 */
export function onEvent<S extends z.ZodType, R extends object | void>(
  socket: AppSocket,
  name: keyof ClientToServerEvents,
  schema: S,
  opts: { maxBytes: number; logger: Logger },
  handler: (payload: z.output<S>) => Promise<R>,
): void {
  (socket as unknown as { on(ev: string, fn: (...args: unknown[]) => void): void }).on(name, (...args: unknown[]) => {
    const last = args.at(-1);
    const ack: AckFn = typeof last === 'function' ? (last as AckFn) : () => undefined;
    const payload = args.length > 1 || typeof last !== 'function' ? args[0] : undefined;
    void (async () => {
      try {
        if (jsonByteLength(payload) > opts.maxBytes) {
          throw new AppError('PAYLOAD_TOO_LARGE', `Payload exceeds ${opts.maxBytes} bytes`);
        }
        const result = (await handler(parseInput(schema, payload))) as Record<string | symbol, unknown> | undefined;
        const after = result?.[AFTER_ACK];
        if (result) delete result[AFTER_ACK];
        ack({ ok: true, ...(result ?? {}) });
        // Work that must follow the ack on the wire (e.g. releasing held room events after a snapshot).
        if (typeof after === 'function') after();
      } catch (err) {
        const { status, body } = toErrorBody(err);
        if (status >= 500) opts.logger.error('socket handler failed', { event: name, err });
        ack({ ok: false, error: body });
      }
    })();
  });
}
