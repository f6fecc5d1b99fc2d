import os from 'node:os';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiDocuments, serialize } from '../../../src/cli/docs-api';
import { clientEvents } from '../../../src/contract/client-events';
import { roomEventSchemas, unsequencedEventSchemas } from '../../../src/contract/events';
import { buildOpenApi, openApiPath } from '../../../src/http/openapi';
import { ROUTES } from '../../../src/http/route-table';
import { buildAsyncApi } from '../../../src/realtime/asyncapi';
import { REPO_ROOT } from '../../helpers/process';
import { startTestApp, testDb, type TestApp } from '../../helpers/test-app';

type Json = Record<string, any>;

/** Every `$ref` in a document, with the JSON pointer where it stands. */
function refs(node: unknown, at = '#', out: { at: string; ref: string }[] = []) {
  if (Array.isArray(node)) node.forEach((x, i) => refs(x, `${at}/${i}`, out));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push({ at, ref: v });
      else refs(v, `${at}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`, out);
    }
  }
  return out;
}

/** Resolves a local JSON pointer (`#/a/b~1c`) in `doc`; undefined when it points nowhere. */
function resolve(doc: unknown, ref: string): unknown {
  if (!ref.startsWith('#')) return undefined;
  let node: any = doc;
  for (const raw of ref.slice(1).split('/').slice(1)) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (!node || typeof node !== 'object' || !Object.hasOwn(node, key)) return undefined;
    node = node[key];
  }
  return node;
}

/** The routes an express 5 app registers: METHOD and full path, mounts included. */
function expressRoutes(app: any): string[] {
  const out: string[] = [];
  const walk = (stack: any[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const method of Object.keys(layer.route.methods)) if (method !== '_all') out.push(`${method.toUpperCase()} ${prefix}${layer.route.path}`);
      } else if (Array.isArray(layer.handle?.stack)) {
        const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
        walk(layer.handle.stack, prefix + mount);
      }
    }
  };
  walk(app.router.stack, '');
  return out.sort();
}

/** A JSON Schema 2020-12 validator: checks each schema against the meta-schema and compiles it. */
const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
function expectValidSchema(schema: unknown, where: string) {
  expect(ajv.validateSchema(schema as object), `${where}: ${ajv.errorsText(ajv.errors)}`).toBe(true);
  expect(() => ajv.compile(schema as object), where).not.toThrow();
}

describe(`API documents on ${testDb()}`, () => {
  let app: TestApp;
  beforeAll(async () => {
    // Without the built web room: its page fallback (any GET that asks for HTML) is not an API route.
    app = await startTestApp({ env: { WEB_DIR: path.join(os.tmpdir(), `pantheon-no-web-${process.pid}`) } });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('OpenAPI: required fields, every $ref resolves, every schema is valid JSON Schema 2020-12', () => {
    const doc = buildOpenApi() as Json;
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info.title).toBeTruthy();
    expect(doc.info.version).toBeTruthy();
    expect(Object.keys(doc.paths).length).toBeGreaterThan(10);
    for (const [p, ops] of Object.entries<Json>(doc.paths)) {
      expect(p.startsWith('/'), p).toBe(true);
      const declared = [...p.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      for (const [method, op] of Object.entries<Json>(ops)) {
        expect(['get', 'post', 'patch', 'delete', 'put']).toContain(method);
        expect(Object.keys(op.responses).length, `${method} ${p}`).toBeGreaterThan(0);
        expect(op.operationId).toMatch(/^[A-Za-z0-9]+$/);
        // Each path parameter is declared once, as required.
        const inPath = (op.parameters ?? []).filter((x: Json) => x.in === 'path');
        expect(inPath.map((x: Json) => x.name).sort(), `${method} ${p}`).toEqual(declared);
        for (const x of op.parameters ?? []) expectValidSchema(x.schema, `${method} ${p} ${x.name}`);
      }
    }
    const ids = Object.values<Json>(doc.paths).flatMap((ops) => Object.values<Json>(ops).map((o) => o.operationId));
    expect(new Set(ids).size).toBe(ids.length);
    const all = refs(doc);
    expect(all.length).toBeGreaterThan(20);
    for (const { at, ref } of all) expect(resolve(doc, ref), `${at} -> ${ref}`).toBeDefined();
    for (const [name, schema] of Object.entries(doc.components.schemas)) expectValidSchema(schema, name);
  });

  it('AsyncAPI: required fields, every $ref resolves, every schema is valid JSON Schema 2020-12', () => {
    const doc = buildAsyncApi() as Json;
    expect(doc.asyncapi).toBe('3.0.0');
    expect(doc.info.title).toBeTruthy();
    expect(doc.info.version).toBeTruthy();
    for (const key of [...Object.keys(doc.components.messages), ...Object.keys(doc.components.schemas)]) expect(key).toMatch(/^[a-zA-Z0-9.\-_]+$/);
    for (const [id, op] of Object.entries<Json>(doc.operations)) {
      expect(['send', 'receive'], id).toContain(op.action);
      expect(resolve(doc, op.channel.$ref), id).toBeDefined();
      expect(op.messages.length, id).toBeGreaterThan(0);
      // An operation's messages are messages of its channel.
      for (const m of op.messages) expect(m.$ref.startsWith(`${op.channel.$ref}/messages/`), id).toBe(true);
    }
    for (const { at, ref } of refs(doc)) expect(resolve(doc, ref), `${at} -> ${ref}`).toBeDefined();
    for (const [name, schema] of Object.entries(doc.components.schemas)) expectValidSchema(schema, name);
  });

  it('lists every route the express app registers, and no other; serves the same document', async () => {
    const registered = expressRoutes(app.httpApp);
    const table = ROUTES.map((r) => `${r.method.toUpperCase()} ${r.path}`).sort();
    expect(registered).toEqual(table);
    const doc = buildOpenApi() as Json;
    const documented = Object.entries<Json>(doc.paths)
      .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`))
      .sort();
    expect(documented).toEqual(registered.map((r) => { const [m, p] = r.split(' '); return `${m} ${openApiPath(p!)}`; }).sort());
    const served = await fetch(`${app.url}/api/v1/openapi.json`);
    expect(served.status).toBe(200);
    expect(await served.json()).toEqual(doc);
  });

  it('lists every socket event of the contract and of the handler table, and no other', () => {
    const doc = buildAsyncApi() as Json;
    const named = (action: string) =>
      Object.values<Json>(doc.operations)
        .filter((o) => o.action === action)
        .map((o) => resolve(doc, o.messages[0].$ref) as Json)
        .map((m) => resolve(doc, m.$ref) as Json)
        .map((m) => m.name as string)
        .sort();
    expect(Object.keys(clientEvents).sort()).toEqual([...app.realtime.handledEvents].sort());
    expect(named('receive')).toEqual([...app.realtime.handledEvents].sort());
    expect(named('send')).toEqual([...Object.keys(roomEventSchemas), ...Object.keys(unsequencedEventSchemas)].sort());
    // Each client event's ack is its operation's reply.
    for (const o of Object.values<Json>(doc.operations).filter((x) => x.action === 'receive')) {
      expect(o.reply.messages[0].$ref).toBe(`${o.messages[0].$ref}.ack`);
    }
  });

  it('has docs/asyncapi.json and docs/openapi.json as npm run docs:api writes them (not stale)', () => {
    for (const [file, doc] of Object.entries(apiDocuments())) {
      const onDisk = readFileSync(path.join(REPO_ROOT, file), 'utf8');
      expect(onDisk === serialize(doc), `${file} is stale: run npm run docs:api`).toBe(true);
    }
  });
});
