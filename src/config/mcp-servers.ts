import { z } from 'zod';

/**
 * `MCP_SERVERS`: the MCP servers whose tools agents may be granted, as a JSON list. Each has a
 * `name` (its tools become `mcp.<name>.<tool>`) and either a Streamable HTTP `url` with `headers`
 * whose values NAME environment variables (secrets stay in the environment, never in this list),
 * or a stdio `command` with `args` and `env` (values naming variables too).
 *   [{"name":"files","url":"https://mcp.example.com/mcp","headers":{"Authorization":"MCP_FILES_TOKEN"}},
 *    {"name":"local","command":"node","args":["server.js"]}]
 */

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must name an environment variable');
const serverName = z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, 'lowercase letters, digits, _ or -, starting with a letter (max 32)');

const httpServer = z.strictObject({
  name: serverName,
  url: z.url({ protocol: /^https?$/ }),
  /** Header name -> the environment variable holding its value. */
  headers: z.record(z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'not a header name'), envName).optional(),
});
const stdioServer = z.strictObject({
  name: serverName,
  command: z.string().min(1).max(1000),
  args: z.array(z.string().max(4000)).max(100).optional(),
  cwd: z.string().max(4000).optional(),
  /** Variable name in the child -> the environment variable of this server holding its value. */
  env: z.record(envName, envName).optional(),
});
const serversSchema = z.array(z.union([httpServer, stdioServer])).max(32);

export type McpServerConfig =
  | { name: string; transport: 'http'; url: string; headers?: Record<string, string> }
  | { name: string; transport: 'stdio'; command: string; args: string[]; cwd?: string; env?: Record<string, string> };

/** Parses MCP_SERVERS, resolving named variables from `env`; throws with a readable message. */
export function parseMcpServers(raw: string | undefined, env: Record<string, string | undefined>): McpServerConfig[] {
  if (!raw) return [];
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new Error('must be a JSON list of servers');
  }
  const parsed = serversSchema.safeParse(json);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new Error(`${i.path.join('.') || '(list)'}: ${i.message}`);
  }
  const seen = new Set<string>();
  const resolve = (map: Record<string, string> | undefined, where: string) => {
    if (!map) return undefined;
    const out: Record<string, string> = {};
    for (const [key, variable] of Object.entries(map)) {
      const value = env[variable];
      if (value === undefined || value === '') throw new Error(`${where}.${key} names ${variable}, which is not set`);
      out[key] = value;
    }
    return out;
  };
  return parsed.data.map((s) => {
    if (seen.has(s.name)) throw new Error(`two servers are named "${s.name}"`);
    seen.add(s.name);
    if ('url' in s) return { name: s.name, transport: 'http', url: s.url, ...(s.headers ? { headers: resolve(s.headers, `${s.name}.headers`) } : {}) };
    return { name: s.name, transport: 'stdio', command: s.command, args: s.args ?? [], ...(s.cwd ? { cwd: s.cwd } : {}), ...(s.env ? { env: resolve(s.env, `${s.name}.env`) } : {}) };
  });
}
