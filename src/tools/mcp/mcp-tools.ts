import type { StructuredToolInterface } from '@langchain/core/tools';
import type { McpServerConfig } from '../../config/config';
import { isMcpToolName, mcpToolName } from '../../domain/tool-names';
import type { Logger } from '../../shared/logger';
import type { Redactor } from '../../shared/redactor';
import { instrumentTool, type ToolGuard } from '../tool-events';
import { McpConnection, type McpToolInfo } from './mcp-connection';

/**
 * The tools of every configured MCP server, as the registry names them (`mcp.<server>.<tool>`).
 * Connections are made in the background at start and again after a server drops; a tool is
 * offered to a model only while its server is up.
 */

export interface McpToolsOptions {
  servers: McpServerConfig[];
  /** One call, at most. */
  callTimeoutMs: number;
  /** Characters of a tool's output handed to the model. */
  maxOutputChars: number;
  reconnectMs: number;
  logger: Logger;
  redactor: Redactor;
}

export interface McpToolEntry {
  name: string;
  server: string;
  info: McpToolInfo;
  available: boolean;
  reason?: string;
}

/** What the model is told the tool is called: OpenAI-compatible APIs allow [A-Za-z0-9_-]{1,64}. */
export function modelToolName(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9_-]/g, '_');
  return safe.length <= 64 ? safe : `${safe.slice(0, 55)}_${hash(safe)}`;
}

function hash(s: string): string {
  let h = 0;
  for (const c of s) h = (Math.imul(h, 31) + c.charCodeAt(0)) | 0;
  return (h >>> 0).toString(36).padStart(7, '0').slice(0, 8);
}

export class McpTools {
  private readonly connections = new Map<string, McpConnection>();

  constructor(private readonly opts: McpToolsOptions) {
    for (const s of opts.servers) {
      this.connections.set(s.name, new McpConnection(s, { reconnectMs: opts.reconnectMs, logger: opts.logger, redactor: opts.redactor }));
    }
  }

  /** First connection attempts, all at once; a server that is down never fails the start. */
  async start(): Promise<void> {
    await Promise.all([...this.connections.values()].map((c) => c.start()));
  }

  async close(): Promise<void> {
    await Promise.all([...this.connections.values()].map((c) => c.close()));
  }

  /** Every tool of every server as last listed, with whether it can be used now. */
  list(): McpToolEntry[] {
    const out: McpToolEntry[] = [];
    for (const c of this.connections.values()) {
      for (const info of c.tools) {
        out.push({
          name: mcpToolName(c.name, info.name),
          server: c.name,
          info,
          available: c.state === 'up',
          ...(c.state === 'up' ? {} : { reason: c.reason ?? `MCP server "${c.name}" is connecting` }),
        });
      }
    }
    return out;
  }

  /** Servers that never listed tools (down since start): they show in the catalog with their reason. */
  silentServers(): { server: string; reason: string }[] {
    return [...this.connections.values()]
      .filter((c) => c.tools.length === 0 && c.state !== 'up')
      .map((c) => ({ server: c.name, reason: c.reason ?? `MCP server "${c.name}" is connecting` }));
  }

  /** True when the registry knows the tool (its server listed it), up or not. */
  has(name: string): boolean {
    return isMcpToolName(name) && this.find(name) !== undefined;
  }

  private find(name: string): { conn: McpConnection; info: McpToolInfo } | undefined {
    for (const c of this.connections.values()) {
      const prefix = `mcp.${c.name}.`;
      if (!name.startsWith(prefix)) continue;
      const info = c.tools.find((t) => t.name === name.slice(prefix.length));
      if (info) return { conn: c, info };
    }
    return undefined;
  }

  /**
   * A LangChain tool for a permitted MCP tool whose server is up; undefined otherwise (a tool that
   * can only fail is not offered). Progress notifications become `tool:progress`; the output is
   * capped; errors are redacted by instrumentTool.
   */
  build(name: string, redactor: Redactor, guard?: ToolGuard): StructuredToolInterface | undefined {
    const found = this.find(name);
    if (!found || found.conn.state !== 'up') return undefined;
    const { conn, info } = found;
    const { callTimeoutMs, maxOutputChars } = this.opts;
    return instrumentTool(
      {
        name,
        modelName: modelToolName(name),
        description: `${info.description} (MCP server ${conn.name})`.slice(0, 1024),
        schema: { type: 'object', properties: {}, ...info.inputSchema },
        async run(input, ctx) {
          const result = await conn.call(info.name, input, {
            timeoutMs: callTimeoutMs,
            ...(ctx.signal ? { signal: ctx.signal } : {}),
            onProgress: (p) => {
              const percent = p.total ? Math.max(0, Math.min(100, Math.round((p.progress / p.total) * 100))) : undefined;
              ctx.progress(p.message ?? `${p.progress}${p.total ? ` of ${p.total}` : ''}`, percent);
            },
          });
          if (result.isError) throw new Error(result.text || 'The MCP tool reported an error');
          const truncated = result.text.length > maxOutputChars;
          return {
            content: truncated ? `${result.text.slice(0, maxOutputChars)}\n[…cut at ${maxOutputChars} characters]` : result.text,
            summary: { server: conn.name, tool: info.name, chars: result.text.length, truncated },
          };
        },
      },
      redactor,
      guard,
    );
  }
}
