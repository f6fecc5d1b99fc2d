// The chat endpoint's wire shapes (POST /api/v1/sessions/:sessionId/chat): the body an AI SDK
// `useChat` client sends (its UI messages; the last user message's text is what is sent), or a
// plain `{ text }`. The answer is an AI SDK UI message stream (server-sent events). No server imports here.
import { z } from 'zod';

/** The id a client gives its message doubles as `clientMsgId`: sending it again is idempotent. */
const clientMsgId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits, . _ : - only');

/** A UI message part; only text parts are read, the others (files, tools, data) are passed over. */
const uiPart = z.looseObject({ type: z.string().max(200), text: z.string().optional() });

export const uiMessageSchema = z.looseObject({
  id: z.string().max(200),
  role: z.enum(['system', 'user', 'assistant']),
  parts: z.array(uiPart).max(1000),
});

/** What `useChat` (DefaultChatTransport) posts: `{ id, messages, trigger, messageId?, ...body }`. */
export const useChatBodySchema = z.looseObject({
  id: z.string().max(200).optional(),
  messages: z.array(uiMessageSchema).min(1).max(1000),
  trigger: z.enum(['submit-message', 'regenerate-message']).optional(),
  messageId: z.string().max(200).optional(),
});

export const plainChatBodySchema = z.strictObject({ text: z.string().trim().min(1), clientMsgId: clientMsgId.optional() });

export const chatBodySchema = z.union([plainChatBodySchema, useChatBodySchema]);
export type ChatBody = z.infer<typeof chatBodySchema>;

/** The text and id to send: the body's own, or those of the last user message of a useChat body. */
export function chatInput(body: ChatBody): { text: string; clientMsgId?: string } | null {
  if (!('messages' in body)) {
    const plain = body as z.infer<typeof plainChatBodySchema>;
    return { text: plain.text, ...(plain.clientMsgId ? { clientMsgId: plain.clientMsgId } : {}) };
  }
  const messages = (body as z.infer<typeof useChatBodySchema>).messages;
  const last = [...messages].reverse().find((m) => m.role === 'user');
  if (!last) return null;
  const text = last.parts
    .filter((p) => p.type === 'text' && typeof p.text === 'string')
    .map((p) => p.text)
    .join('\n')
    .trim();
  if (!text) return null;
  const id = clientMsgId.safeParse(last.id);
  return { text, ...(id.success ? { clientMsgId: id.data } : {}) };
}

/** The query of GET /api/v1/sessions/:sessionId/chat/stream (resume). */
export const chatStreamQuerySchema = z.strictObject({
  turnId: z.uuid().optional(),
  /** Continue after this seq of `epoch` (the `id` of the last event received is `epoch:seq`). */
  afterSeq: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  epoch: z.string().min(1).max(64).optional(),
});
