import type { Agent, Message, Room, Session, Turn } from '../db/entities';
import type { PromptAttachment } from './attachment-context';
import type { ConversationMessage, SameTurnAnswer } from './prompt';

/** Messages an agent always sees verbatim, summary or not. */
const KEEP_VERBATIM = 4;

/** Everything a claimed turn reads before it starts, loaded once. */
export interface TurnContext {
  turn: Turn;
  room: Room;
  session: Session;
  /** The room's agents in position order. */
  agents: Agent[];
  /** The text of the user message that started the turn. */
  text: string;
  /** The conversation up to that message, oldest first. */
  recent: ConversationMessage[];
  /** The newest ready files of the room, listed to agents that may read them. */
  files: { id: string; filename: string; kind: string }[];
  /** The files attached to that message, with their text within ATTACHMENT_CONTEXT_CHARS. */
  attachments: PromptAttachment[];
  /** A regeneration: the one agent that answers again, and the answers given before its own in the turn regenerated. */
  regenerate?: { agentKey: string; messageId: string; sameTurn: SameTurnAnswer[] };
}

/**
 * The conversation as agents read it, from the newest rows first. Messages already folded into the
 * session summary are left out, except the last few, which agents always see word for word.
 */
export function conversationOf(
  newestFirst: Message[],
  agents: readonly Agent[],
  summarizedUpTo: Date | null,
  /** The latest version of a regenerated answer, by the id of its first version: it speaks in its place. */
  latest: ReadonlyMap<string, Message> = new Map(),
): ConversationMessage[] {
  const names = new Map(agents.map((a) => [a.key, a.name]));
  const kept = summarizedUpTo ? newestFirst.filter((m, i) => i < KEEP_VERBATIM || m.createdAt > summarizedUpTo) : newestFirst;
  return kept.reverse().map((m) => ({
    authorType: m.authorType,
    authorName: m.authorType === 'user' ? (m.authorUser?.displayName ?? 'someone') : m.authorType === 'agent' ? (names.get(m.agentKey ?? '') ?? m.agentKey ?? 'agent') : 'system',
    agentKey: m.agentKey,
    content: latest.get(m.id)?.content ?? m.content,
  }));
}
