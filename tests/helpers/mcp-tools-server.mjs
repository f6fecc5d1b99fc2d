// An MCP server for tests, built with the SDK's own server classes. Tools:
//   count { n }  counts to n, sending a progress notification at each step;
//   echo { text } answers its input; fail {} reports a tool error quoting a secret from its env.
// Run as a stdio server: `node tests/helpers/mcp-tools-server.mjs` (the test's HTTP server imports buildMcpServer).
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

export function buildMcpServer(label = 'test') {
  const server = new McpServer({ name: `pantheon-${label}`, version: '1.0.0' });
  server.registerTool(
    'count',
    { description: `Counts to n (${label})`, inputSchema: { n: z.number().int().min(1).max(10) } },
    async ({ n }, extra) => {
      const token = extra._meta?.progressToken;
      for (let i = 1; i <= n; i++) {
        if (token !== undefined) {
          await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: i, total: n, message: `step ${i} of ${n}` } });
        }
        // A step of work. (The SDK's client handles notifications a tick after reading them: one
        // read in the same chunk as the result would be dropped, as with any server that works
        // for no time at all.)
        await new Promise((resolve) => setTimeout(resolve, 15));
      }
      return { content: [{ type: 'text', text: `${label} counted to ${n}` }] };
    },
  );
  server.registerTool('echo', { description: 'Echoes text', inputSchema: { text: z.string().max(100_000) } }, async ({ text }) => ({
    content: [{ type: 'text', text: `echo: ${text}` }],
  }));
  server.registerTool('fail', { description: 'Always fails', inputSchema: {} }, async () => ({
    isError: true,
    content: [{ type: 'text', text: `refused with token ${process.env.MCP_TEST_SECRET ?? 'none'}` }],
  }));
  return server;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  const server = buildMcpServer(process.env.MCP_LABEL ?? 'stdio');
  await server.connect(new StdioServerTransport());
}
