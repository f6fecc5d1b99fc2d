import { z } from 'zod';
import type { ToolDto } from '../contract/dto';
import { isKnownTool, isMcpToolName, type ToolName } from '../domain/tool-names';
import type { McpTools } from './mcp/mcp-tools';
import { readFileSchema } from './read-file';
import { webSearchSchema } from './web-search';

/** Every tool agents may be granted: the built-in ones and those of the MCP servers, with their input schemas. */

const BUILT_IN: Record<ToolName, { description: string; schema: z.ZodObject }> = {
  web_search: { description: 'Search the web for current information (Tavily).', schema: webSearchSchema },
  read_file: { description: 'Read the parsed content of a file uploaded to the room.', schema: readFileSchema },
};

export class ToolCatalog {
  constructor(private readonly d: { searchConfigured: boolean; mcp?: McpTools }) {}

  /** True when the tool exists (an MCP tool: its server listed it at least once). */
  has(name: string): boolean {
    if (isKnownTool(name)) return true;
    return isMcpToolName(name) && (this.d.mcp?.has(name) ?? false);
  }

  list(): { items: ToolDto[]; servers: { name: string; available: boolean; reason?: string }[] } {
    const items: ToolDto[] = (Object.keys(BUILT_IN) as ToolName[]).map((name) => {
      const available = name !== 'web_search' || this.d.searchConfigured;
      return {
        name,
        description: BUILT_IN[name].description,
        source: 'builtin',
        inputSchema: z.toJSONSchema(BUILT_IN[name].schema) as Record<string, unknown>,
        available,
        ...(available ? {} : { reason: 'No search engine is configured (TAVILY_API_KEY)' }),
      };
    });
    const mcp = this.d.mcp?.list() ?? [];
    for (const t of mcp) {
      items.push({ name: t.name, description: t.info.description, source: 'mcp', server: t.server, inputSchema: t.info.inputSchema, available: t.available, ...(t.reason ? { reason: t.reason } : {}) });
    }
    const servers = new Map<string, { name: string; available: boolean; reason?: string }>();
    for (const t of mcp) servers.set(t.server, { name: t.server, available: t.available, ...(t.reason ? { reason: t.reason } : {}) });
    for (const s of this.d.mcp?.silentServers() ?? []) servers.set(s.server, { name: s.server, available: false, reason: s.reason });
    return { items, servers: [...servers.values()] };
  }
}
