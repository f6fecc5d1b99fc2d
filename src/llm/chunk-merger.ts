import { AIMessageChunk, type BaseMessageChunk } from '@langchain/core/messages';

/**
 * Merges the chunks of one streamed answer into the message `chunk.concat()` folded over them
 * would give, without a concat per chunk. `AIMessageChunk.concat` builds a new message each time
 * (content, metadata and tool-call lists merged and copied, tool-call chunks re-parsed), the bulk
 * of a streamed token's cost. Most chunks carry only text, with metadata that merging leaves as it
 * is (`model_provider` again, zero indices, an empty `usage`): their text is collected and joined
 * onto the message once, when a chunk that does carry more arrives (tool-call pieces, usage,
 * finish reason) or at the end. Any other chunk is concatenated as before.
 */
export class ChunkMerger {
  private merged: BaseMessageChunk | undefined;
  /** Text of plain chunks received since `merged` was last built. */
  private pending = '';

  add(chunk: BaseMessageChunk): void {
    const m = this.merged;
    if (!m) {
      this.merged = chunk;
      return;
    }
    if (addsOnlyText(m, chunk)) {
      this.pending += chunk.content as string;
      return;
    }
    this.merged = this.flushed().concat(chunk);
  }

  /** The merged message so far; undefined before the first chunk. */
  result(): BaseMessageChunk | undefined {
    return this.merged && this.flushed();
  }

  private flushed(): BaseMessageChunk {
    const m = this.merged!;
    if (!this.pending) return m;
    const text = this.pending;
    this.pending = '';
    return (this.merged = m.concat(new AIMessageChunk({ content: text })));
  }
}

const KEPT_STRING_KEYS = new Set(['id', 'name', 'output_version', 'model_provider']);
/** Keys LangChain's dict merge leaves as they are (its DEFAULT_MERGE_IGNORE_KEYS). */
const IGNORED_KEYS = new Set(['index', 'created', 'timestamp']);

/**
 * Whether merging `chunk` into `m` only appends its text: both AI chunks with string content, the
 * chunk without tool calls, usage or extra fields, and with metadata the merge leaves unchanged.
 */
function addsOnlyText(m: BaseMessageChunk, chunk: BaseMessageChunk): boolean {
  if (!AIMessageChunk.isInstance(m) || !AIMessageChunk.isInstance(chunk)) return false;
  if (typeof m.content !== 'string' || typeof chunk.content !== 'string') return false;
  if (chunk.tool_call_chunks?.length || chunk.tool_calls?.length || chunk.usage_metadata !== undefined) return false;
  if (m.id == null && chunk.id != null) return false;
  if (chunk.additional_kwargs && Object.keys(chunk.additional_kwargs).length) return false;
  return mergeKeeps(m.response_metadata, chunk.response_metadata);
}

/** Whether LangChain's `_mergeDicts(left, right)` equals `left`. */
function mergeKeeps(left: Record<string, unknown> | undefined, right: Record<string, unknown> | undefined): boolean {
  if (!right) return true;
  for (const key in right) {
    const value = right[key];
    if (value == null) continue;
    const was = left?.[key];
    if (was == null || typeof was !== typeof value || Array.isArray(was) !== Array.isArray(value)) return false;
    if (typeof value === 'string') {
      if (key === 'type' || IGNORED_KEYS.has(key)) continue;
      if (KEPT_STRING_KEYS.has(key) ? value && value !== was : value !== '') return false;
    } else if (typeof value === 'number') {
      if (!IGNORED_KEYS.has(key) && value !== 0) return false;
    } else if (Array.isArray(value)) {
      if (value.length) return false;
    } else if (typeof value === 'object') {
      if (!mergeKeeps(was as Record<string, unknown>, value as Record<string, unknown>)) return false;
    } else if (value !== was) return false;
  }
  return true;
}
