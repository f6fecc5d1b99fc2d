// `npm run docs:api` writes the API documents from the zod schemas of the contract and the route
// table: docs/asyncapi.json (Socket.IO) and docs/openapi.json (REST, also served at
// /api/v1/openapi.json). A test fails when either file differs from what this writes.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildOpenApi } from '../http/openapi';
import { buildAsyncApi } from '../realtime/asyncapi';

export const apiDocuments = (): Record<string, unknown> => ({
  'docs/asyncapi.json': buildAsyncApi(),
  'docs/openapi.json': buildOpenApi(),
});

export const serialize = (doc: unknown) => `${JSON.stringify(doc, null, 2)}\n`;

const root = path.resolve(import.meta.dirname, '../..');
if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  for (const [file, doc] of Object.entries(apiDocuments())) {
    writeFileSync(path.join(root, file), serialize(doc));
    console.log(`wrote ${file}`);
  }
}
