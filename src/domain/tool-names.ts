/** Tools an agent may be permitted to use. An agent's graph binds only the ones it is allowed. */
export const KNOWN_TOOL_NAMES = ['web_search', 'read_file'] as const;
export type ToolName = (typeof KNOWN_TOOL_NAMES)[number];
export const isKnownTool = (name: string): name is ToolName => (KNOWN_TOOL_NAMES as readonly string[]).includes(name);

/**
 * Tools of MCP servers are named `mcp.<server>.<tool>`; whether one exists depends on the servers
 * (the live registry), so only the shape is a rule here.
 */
export const MCP_TOOL_NAME = /^mcp\.[a-z][a-z0-9_-]{0,31}\.[A-Za-z0-9_.-]{1,128}$/;
export const isMcpToolName = (name: string): boolean => MCP_TOOL_NAME.test(name);
export const mcpToolName = (server: string, tool: string) => `mcp.${server}.${tool}`;
