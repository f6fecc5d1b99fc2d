import { z } from 'zod';
import { clientEvents, type ClientEventName } from '../contract/client-events';
import { errorBodySchema } from '../contract/dto';
import { roomEnvelopeSchema, roomEventSchemas, unsequencedEventSchemas } from '../contract/events';

/**
 * The AsyncAPI 3 document of the Socket.IO contract, generated from the contract's zod schemas
 * (src/contract/client-events.ts and events.ts) with `z.toJSONSchema`. `npm run docs:api` writes it
 * to docs/asyncapi.json; a test fails when that file is stale. From the server's side: client
 * events are operations it `receive`s (each with its ack as the reply), room events and the
 * unsequenced ones operations it `send`s.
 */
type Json = Record<string, unknown>;

const schemaOf = (schema: z.ZodType, io: 'input' | 'output'): Json => {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Json;
  return rest;
};
/** Component keys allow letters, digits, `.`, `-` and `_`: `room:join` is keyed `room.join`. */
export const componentKey = (event: string) => event.replace(/:/g, '.');

/** Names of the client events the contract defines, to compare with the server's handler table. */
export const CLIENT_EVENT_NAMES = Object.keys(clientEvents) as ClientEventName[];
export const ROOM_EVENT_NAMES = Object.keys(roomEventSchemas);
export const UNSEQUENCED_EVENT_NAMES = Object.keys(unsequencedEventSchemas);

export function buildAsyncApi(): Json {
  const schemas: Record<string, Json> = {};
  const messages: Record<string, Json> = {};
  const operations: Record<string, Json> = {};
  const channelMessages: Record<string, Json> = {};
  const message = (key: string, m: Json, schema: z.ZodType, io: 'input' | 'output') => {
    schemas[key] = schemaOf(schema, io);
    messages[key] = { ...m, payload: { $ref: `#/components/schemas/${key}` } };
    channelMessages[key] = { $ref: `#/components/messages/${key}` };
  };
  const channel = { $ref: '#/channels/socket' };

  for (const name of CLIENT_EVENT_NAMES) {
    const { payload, result } = clientEvents[name];
    const key = componentKey(name);
    message(key, { name, title: name, summary: `${name}, client to server` }, payload, 'input');
    const ack = z.union([z.intersection(z.object({ ok: z.literal(true) }), result), z.object({ ok: z.literal(false), error: errorBodySchema })]);
    message(`${key}.ack`, { name: `${name} ack`, title: `${name} ack`, summary: `The answer to ${name}, through its Socket.IO acknowledgement` }, ack, 'output');
    operations[`receive.${key}`] = {
      action: 'receive',
      channel,
      summary: `The client emits ${name} with an acknowledgement callback`,
      messages: [{ $ref: `#/channels/socket/messages/${key}` }],
      reply: { channel, messages: [{ $ref: `#/channels/socket/messages/${key}.ack` }] },
    };
  }
  for (const [name, payload] of Object.entries(roomEventSchemas)) {
    const key = componentKey(name);
    message(key, { name, title: name, summary: `${name}: a sequenced room event (envelope roomId, epoch, seq, ts)` }, z.object({ ...roomEnvelopeSchema.shape, ...payload.shape }), 'output');
    operations[`send.${key}`] = { action: 'send', channel, summary: `The server emits ${name} to the room's members`, messages: [{ $ref: `#/channels/socket/messages/${key}` }] };
  }
  for (const [name, payload] of Object.entries(unsequencedEventSchemas)) {
    const key = componentKey(name);
    message(key, { name, title: name, summary: `${name}: not sequenced, not replayed` }, payload, 'output');
    operations[`send.${key}`] = { action: 'send', channel, summary: `The server emits ${name}`, messages: [{ $ref: `#/channels/socket/messages/${key}` }] };
  }

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Pantheon realtime API',
      version: '1.0.0',
      description:
        'Socket.IO, one namespace, `auth: { token }` in the handshake. Each client event is answered through its acknowledgement with `{ ok: true, ... }` or `{ ok: false, error }`. Room events carry `{ roomId, epoch, seq, ts }`; docs/api.md explains replay and snapshots.',
    },
    defaultContentType: 'application/json',
    servers: {
      local: { host: 'localhost:3000', protocol: 'ws', pathname: '/socket.io', description: 'Socket.IO (Engine.IO v4) over WebSocket, or HTTP long-polling' },
    },
    channels: {
      socket: { address: '/', title: 'The Socket.IO namespace', description: 'Every event travels on the one namespace; rooms are joined with room:join.', messages: channelMessages },
    },
    operations,
    components: { schemas, messages },
  };
}
