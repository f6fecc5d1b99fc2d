import type { BaseMessage } from '@langchain/core/messages';

/** The plain text of a message's content, whether a string or a list of content blocks. */
export function textOfContent(content: BaseMessage['content']): string {
  if (typeof content === 'string') return content;
  return content
    .map((part) => (typeof part === 'string' ? part : part.type === 'text' && typeof part.text === 'string' ? part.text : ''))
    .join('');
}
