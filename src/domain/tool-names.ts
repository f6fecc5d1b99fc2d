/** Tools an agent may be permitted to use. An agent's graph binds only the ones it is allowed. */
export const KNOWN_TOOL_NAMES = ['web_search', 'read_file'] as const;
export type ToolName = (typeof KNOWN_TOOL_NAMES)[number];
export const isKnownTool = (name: string): name is ToolName => (KNOWN_TOOL_NAMES as readonly string[]).includes(name);
