import { z } from 'zod';
import { errorBodySchema } from '../contract/dto';
import { API_PREFIX, API_VERSION, ROUTES, type RouteSpec } from './route-table';

/**
 * The OpenAPI 3.1 document of the REST API, generated from the route table and its zod schemas
 * with zod's own `z.toJSONSchema` (JSON Schema 2020-12, OpenAPI 3.1's dialect): what a route reads
 * is written with `io: 'input'` (defaults optional), what it answers with `io: 'output'`.
 */
type Json = Record<string, unknown>;

/** JSON Schema of a zod schema, without its `$schema` line (the document names the dialect once). */
export function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Json;
  return rest;
}

const pascal = (s: string) => s.replace(/(^|[^a-zA-Z0-9]+)([a-zA-Z0-9])/g, (_m, _sep, c: string) => c.toUpperCase());
/** `post /api/v1/rooms/:roomId/agents` -> `postRoomsRoomIdAgents`. */
export const operationId = (r: Pick<RouteSpec, 'method' | 'path'>) => r.method + pascal(r.path.replace(API_PREFIX, '').replace(/:/g, ''));
/** Express `:param` to OpenAPI `{param}`. */
export const openApiPath = (p: string) => p.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

const PARAMS: Record<string, Json> = {
  roomId: { type: 'string', format: 'uuid' },
  sessionId: { type: 'string', format: 'uuid' },
  turnId: { type: 'string', format: 'uuid' },
  fileId: { type: 'string', format: 'uuid' },
  userId: { type: 'string', format: 'uuid' },
  messageId: { type: 'string', format: 'uuid' },
  toolCallId: { type: 'string', minLength: 1, maxLength: 128 },
  agentKey: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_-]{0,63}$' },
};

export function buildOpenApi(): Json {
  const schemas: Record<string, Json> = { Error: jsonSchema(z.object({ error: errorBodySchema }), 'output') };
  const paths: Record<string, Record<string, Json>> = {};
  for (const r of ROUTES) {
    const id = operationId(r);
    const op: Json = { operationId: id, summary: r.summary, tags: [r.tag] };
    if (r.auth === 'none') op.security = [];
    if (r.auth === 'metrics') op.security = [{ metricsToken: [] }, {}];
    const parameters: Json[] = [...r.path.matchAll(/:([A-Za-z0-9_]+)/g)].map(([, name]) => {
      const schema = PARAMS[name!];
      if (!schema) throw new Error(`route ${r.method} ${r.path}: no schema for the path parameter ${name}`);
      return { name, in: 'path', required: true, schema };
    });
    if (r.query) {
      const q = jsonSchema(r.query, 'input') as { properties?: Record<string, Json>; required?: string[] };
      for (const [name, schema] of Object.entries(q.properties ?? {})) {
        parameters.push({ name, in: 'query', required: q.required?.includes(name) ?? false, schema });
      }
    }
    if (parameters.length) op.parameters = parameters;
    if (r.body === 'multipart') {
      op.requestBody = {
        required: true,
        content: { 'multipart/form-data': { schema: { type: 'object', properties: { file: { type: 'string', contentMediaType: 'application/octet-stream' } }, required: ['file'] } } },
      };
    } else if (r.body) {
      const name = `${pascal(id)}Body`;
      schemas[name] = jsonSchema(r.body, 'input');
      op.requestBody = { required: true, content: { 'application/json': { schema: { $ref: `#/components/schemas/${name}` } } } };
    }
    const responses: Record<string, Json> = {};
    for (const [status, res] of Object.entries(r.responses)) {
      if (res.schema) {
        const name = `${pascal(id)}${status}`;
        schemas[name] = jsonSchema(res.schema, 'output');
        responses[status] = { description: res.description, content: { 'application/json': { schema: { $ref: `#/components/schemas/${name}` } } } };
      } else if (res.contentType) {
        responses[status] = { description: res.description, content: { [res.contentType]: { schema: { type: 'string' } } } };
      } else responses[status] = { description: res.description };
    }
    responses.default = { $ref: '#/components/responses/Error' };
    op.responses = responses;
    (paths[openApiPath(r.path)] ??= {})[r.method] = op;
  }
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'Pantheon REST API',
      version: API_VERSION,
      description: 'Rooms, members, agents, sessions, files and turn audits. Live events go over Socket.IO (docs/asyncapi.json). Errors answer `{ error: { code, message, details? } }` (docs/api.md lists the codes).',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    tags: [...new Set(ROUTES.map((r) => r.tag))].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN, when the server sets one' },
      },
      responses: {
        Error: { description: 'an error with a stable code', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
      },
      schemas,
    },
  };
}
