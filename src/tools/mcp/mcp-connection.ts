import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { McpServerConfig } from '../../config/config';
import type { Logger } from '../../shared/logger';
import type { Redactor } from '../../shared/redactor';

/**
 * One MCP server, through the official TypeScript SDK: connects (Streamable HTTP or stdio), lists
 * its tools, calls them. A server that cannot be reached, or drops (its process exits, a call
 * cannot reach it), is `down` with a reason; it is tried again with a growing delay, never
 * failing the server's start. Its tools are offered only while it is `up`.
 */

export interface McpToolInfo {
  /** The server's own tool name. */
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

export type McpState = 'connecting' | 'up' | 'down';

export interface McpCallOptions {
  signal?: AbortSignal;
  timeoutMs: number;
  onProgress?: (p: { progress: number; total?: number; message?: string }) => void;
}

export interface McpCallResult {
  text: string;
  isError: boolean;
}

/** Most tools one server may contribute; more are ignored (and logged). */
const MAX_TOOLS_PER_SERVER = 128;
const MAX_RECONNECT_MS = 30_000;
/** Connecting and listing, at most. */
const CONNECT_TIMEOUT_MS = 10_000;

export class McpConnection {
  state: McpState = 'connecting';
  /** Why the server is down, in words a member may read (redacted). */
  reason: string | undefined;
  /** The tools of its last listing; kept while it is down, so grants stay valid. */
  tools: McpToolInfo[] = [];
  private client: Client | null = null;
  private timer: NodeJS.Timeout | null = null;
  private delay: number;
  private closed = false;
  private connecting: Promise<void> | null = null;
  /** Bumped at every connection, so the close of an old one does not mark a new one down. */
  private generation = 0;

  constructor(
    readonly config: McpServerConfig,
    private readonly opts: { reconnectMs: number; logger: Logger; redactor: Redactor; onChange?: () => void },
  ) {
    this.delay = opts.reconnectMs;
  }

  get name(): string {
    return this.config.name;
  }

  /** Connects in the background; resolves after the first attempt, whatever its outcome. */
  start(): Promise<void> {
    return this.connect();
  }

  private connect(): Promise<void> {
    this.connecting ??= this.attempt().finally(() => (this.connecting = null));
    return this.connecting;
  }

  private transport(): Transport {
    const c = this.config;
    if (c.transport === 'http') {
      return new StreamableHTTPClientTransport(new URL(c.url), { requestInit: { headers: { ...(c.headers ?? {}) } } });
    }
    return new StdioClientTransport({
      command: c.command,
      args: c.args,
      ...(c.cwd ? { cwd: c.cwd } : {}),
      env: { ...getDefaultEnvironment(), ...(c.env ?? {}) },
      stderr: 'ignore',
    });
  }

  private async attempt(): Promise<void> {
    if (this.closed) return;
    const generation = ++this.generation;
    const client = new Client({ name: 'pantheon', version: '1.0.0' });
    try {
      const transport = this.transport();
      transport.onclose = () => {
        if (generation === this.generation) this.markDown('the connection closed');
      };
      await client.connect(transport, { timeout: CONNECT_TIMEOUT_MS });
      const tools: McpToolInfo[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.listTools(cursor ? { cursor } : undefined, { timeout: CONNECT_TIMEOUT_MS });
        for (const t of page.tools) tools.push({ name: t.name, description: t.description ?? t.title ?? t.name, inputSchema: t.inputSchema as Record<string, unknown> });
        cursor = page.nextCursor;
      } while (cursor && tools.length < MAX_TOOLS_PER_SERVER);
      if (this.closed || generation !== this.generation) {
        await client.close().catch(() => undefined);
        return;
      }
      if (tools.length > MAX_TOOLS_PER_SERVER) this.opts.logger.warn('MCP server lists too many tools; the rest are ignored', { server: this.name, max: MAX_TOOLS_PER_SERVER });
      this.client = client;
      this.tools = tools.slice(0, MAX_TOOLS_PER_SERVER);
      this.state = 'up';
      this.reason = undefined;
      this.delay = this.opts.reconnectMs;
      this.opts.logger.info('MCP server connected', { server: this.name, tools: this.tools.map((t) => t.name) });
      this.opts.onChange?.();
    } catch (err) {
      await client.close().catch(() => undefined);
      if (generation === this.generation) this.markDown(`it could not be reached (${this.describe(err)})`);
    }
  }

  private describe(err: unknown): string {
    return this.opts.redactor.redact(err instanceof Error ? err.message : String(err)).slice(0, 200);
  }

  /** Marks the server down and schedules the next attempt. */
  markDown(why: string): void {
    if (this.closed) return;
    const wasUp = this.state === 'up';
    this.state = 'down';
    this.reason = `MCP server "${this.name}" is down: ${why}`;
    const old = this.client;
    this.client = null;
    this.generation++;
    void old?.close().catch(() => undefined);
    if (wasUp) this.opts.logger.warn('MCP server down', { server: this.name, reason: this.reason });
    this.opts.onChange?.();
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.connect();
    }, this.delay);
    this.timer.unref();
    this.delay = Math.min(this.delay * 2, MAX_RECONNECT_MS);
  }

  /** Calls one of its tools; a call that cannot reach the server marks it down. */
  async call(tool: string, args: Record<string, unknown>, opts: McpCallOptions): Promise<McpCallResult> {
    const client = this.client;
    if (!client || this.state !== 'up') throw new Error(this.reason ?? `MCP server "${this.name}" is not connected`);
    try {
      const result = await client.callTool({ name: tool, arguments: args }, undefined, {
        timeout: opts.timeoutMs,
        maxTotalTimeout: opts.timeoutMs,
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.onProgress
          ? { onprogress: (p: { progress: number; total?: number; message?: string }) => opts.onProgress!({ progress: p.progress, total: p.total, message: p.message }) }
          : {}),
      });
      const content = (result.content ?? []) as { type: string; text?: string; mimeType?: string }[];
      const text = content.map((c) => (c.type === 'text' ? (c.text ?? '') : `[${c.type}${c.mimeType ? ` ${c.mimeType}` : ''}]`)).join('\n');
      return { text: text || (result.structuredContent ? JSON.stringify(result.structuredContent) : ''), isError: result.isError === true };
    } catch (err) {
      if (!opts.signal?.aborted && isUnreachable(err)) this.markDown(`a call could not reach it (${this.describe(err)})`);
      throw err;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const client = this.client;
    this.client = null;
    this.generation++;
    await this.connecting?.catch(() => undefined);
    await client?.close().catch(() => undefined);
  }
}

/** A transport failure (as opposed to a tool's own error or a timeout): the server is gone. */
function isUnreachable(err: unknown): boolean {
  const text = `${err instanceof Error ? `${err.name} ${err.message} ${String((err as { cause?: unknown }).cause ?? '')}` : String(err)}`;
  return /ECONNREFUSED|ECONNRESET|EPIPE|fetch failed|socket hang up|Connection closed|not connected|other side closed|terminated/i.test(text);
}
