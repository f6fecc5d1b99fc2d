import type { Agent, AuthorType, RoomMode, RoomSettings } from '../db/entities';
import type { PromptAttachment } from './attachment-context';
import type { ConversationMessage, SameTurnAnswer } from './prompt';

/** Messages an agent always sees verbatim, summary or not. */
const KEEP_VERBATIM = 4;

/** Everything a claimed turn reads before it starts, loaded once. */
export interface TurnContext {
  turn: ContextTurn;
  room: { id: string; settings: RoomSettings };
  session: { id: string; summary: string | null; summaryUpdatedAt: Date | null };
  /** The room's agents in position order. */
  agents: ContextAgent[];
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

/** The claimed turn as its run needs it. */
export interface ContextTurn {
  id: string;
  mode: RoomMode;
  requestedBy: { id: string; displayName: string };
  /** A re-run or regeneration answers this message rather than one of its own. */
  triggerMessageId: string | null;
  regenerateMessageId: string | null;
  regenerateAgentKey: string | null;
}

/** An agent of the room as a turn uses it. */
export type ContextAgent = Pick<Agent, 'key' | 'name' | 'rolePrompt' | 'modelAlias' | 'toolPermissions' | 'toolApprovals' | 'position'>;

/** A message of the conversation as the turn reads it (newest first), with its latest version's text. */
export interface ContextMessage {
  id: string;
  authorType: AuthorType;
  /** The author's display name (user messages). */
  authorName: string | null;
  agentKey: string | null;
  content: string;
  createdAt: Date;
}

/**
 * The conversation as agents read it, from the newest rows first. Messages already folded into the
 * session summary are left out, except the last few, which agents always see word for word.
 */
export function conversationOf(newestFirst: ContextMessage[], agents: readonly ContextAgent[], summarizedUpTo: Date | null): ConversationMessage[] {
  const names = new Map(agents.map((a) => [a.key, a.name]));
  const kept = summarizedUpTo ? newestFirst.filter((m, i) => i < KEEP_VERBATIM || m.createdAt > summarizedUpTo) : newestFirst;
  return kept.reverse().map((m) => ({
    authorType: m.authorType,
    authorName: m.authorType === 'user' ? (m.authorName ?? 'someone') : m.authorType === 'agent' ? (names.get(m.agentKey ?? '') ?? m.agentKey ?? 'agent') : 'system',
    agentKey: m.agentKey,
    content: m.content,
  }));
}
