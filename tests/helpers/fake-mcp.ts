import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
// @ts-expect-error: a plain ES module shared with the stdio server process
import { buildMcpServer } from './mcp-tools-server.mjs';

/** The stdio MCP server's script (tools count, echo, fail). */
export const MCP_STDIO_SERVER = path.resolve(import.meta.dirname, 'mcp-tools-server.mjs');

export interface FakeMcpHttp {
  url: string;
  /** Authorization headers of the requests received. */
  authorizations: (string | undefined)[];
  /** Stops listening and drops every connection (the server going down). */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  restart(): Promise<void>;
}

/**
 * A Streamable HTTP MCP server (stateless: a server and transport per request, as the SDK's
 * examples do), with the tools of mcp-tools-server.mjs.
 */
export async function startFakeMcpHttp(label = 'http'): Promise<FakeMcpHttp> {
  const authorizations: (string | undefined)[] = [];
  const server = http.createServer((req, res) => {
    void (async () => {
      if (!req.url?.startsWith('/mcp')) {
        res.writeHead(404).end();
        return;
      }
      authorizations.push(req.headers.authorization);
      if (req.method !== 'POST') {
        res.writeHead(405, { allow: 'POST' }).end();
        return;
      }
      const mcp = buildMcpServer(label);
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      res.on('close', () => {
        void transport.close();
        void mcp.close();
      });
      await mcp.connect(transport);
      await transport.handleRequest(req, res);
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    authorizations,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
    restart: () => new Promise<void>((r) => server.listen(port, '127.0.0.1', r)),
  };
}
