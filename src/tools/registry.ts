import type { StructuredToolInterface } from '@langchain/core/tools';
import { isKnownTool, isMcpToolName, type ToolName } from '../domain/tool-names';
import type { McpTools } from './mcp/mcp-tools';
import type { Redactor } from '../shared/redactor';
import { readFileTool, type FileContentReader } from './read-file';
import type { ToolGuard } from './tool-events';
import type { SearchProvider } from './search-provider';
import { webSearchTool } from './web-search';

/**
 * The tools one agent may use. Only permitted tools are built, so a forbidden tool is absent from
 * the model request altogether rather than refused when called.
 */

export interface ToolDeps {
  /** The room the turn runs in: read_file only reads files of this room. */
  roomId: string;
  /** Absent when no search engine is configured (no TAVILY_API_KEY). */
  search?: SearchProvider;
  /** Absent when file reading is not wired. */
  files?: FileContentReader;
  /**
   * Files attached to the message being answered whose text did not fit the prompt: read_file is
   * offered for these alone to an agent without the read_file permission.
   */
  attachedFileIds?: readonly string[];
  /** Keeps configured secrets out of tool errors (members, audit, database and the model read them). */
  redactor: Redactor;
  /** The agent's approval policies applied to each call (absent: every call runs). */
  guard?: ToolGuard;
  /** The tools of the configured MCP servers. */
  mcp?: McpTools;
}

const builders: Record<ToolName, (deps: ToolDeps) => StructuredToolInterface | undefined> = {
  web_search: (deps) => (deps.search ? webSearchTool(deps.search, deps.redactor, deps.guard) : undefined),
  read_file: (deps) => (deps.files ? readFileTool(deps.roomId, deps.files, deps.redactor, deps.guard) : undefined),
};

/**
 * Permitted and available tools, in a stable order. A permitted tool whose backend is not
 * configured is left out too: offering the model a tool that can only fail wastes a round trip.
 */
export function buildTools(permissions: readonly string[], deps: ToolDeps): StructuredToolInterface[] {
  const allowed = new Set(permissions.filter(isKnownTool));
  const builtIn = (Object.keys(builders) as ToolName[]).filter((name) => allowed.has(name)).map((name) => builders[name](deps));
  // MCP tools: granted by name, offered only while their server is up.
  const mcp = [...new Set(permissions.filter(isMcpToolName))].sort().map((name) => deps.mcp?.build(name, deps.redactor, deps.guard));
  const tools = [...builtIn, ...mcp].filter((t): t is StructuredToolInterface => t !== undefined);
  const attached = deps.attachedFileIds ?? [];
  if (!allowed.has('read_file') && attached.length && deps.files) {
    tools.push(readFileTool(deps.roomId, onlyFiles(deps.files, attached), deps.redactor, deps.guard));
  }
  return tools;
}

/** A reader that knows only these files: any other id reads as a missing file. */
function onlyFiles(reader: FileContentReader, ids: readonly string[]): FileContentReader {
  const allowed = new Set(ids);
  return { read: (roomId, fileId, opts) => (allowed.has(fileId) ? reader.read(roomId, fileId, opts) : Promise.resolve(null)) };
}
