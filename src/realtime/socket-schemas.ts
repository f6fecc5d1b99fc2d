import { z } from 'zod';

// Inbound socket payloads. Strict objects: unknown keys (including `__proto__`) are refused.
const roomId = z.uuid();

export const joinPayload = z.strictObject({ roomId, lastSeq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional() });
export const leavePayload = z.strictObject({ roomId });
export const typingPayload = z.strictObject({ roomId, sessionId: z.uuid(), on: z.boolean() });
export const cancelPayload = z.strictObject({ roomId, turnId: z.uuid() });
export const sendPayload = (maxChars: number) =>
  z.strictObject({
    roomId,
    sessionId: z.uuid(),
    clientMsgId: z.string().min(1).max(128).regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits, . _ : - only'),
    content: z.string().trim().min(1).max(maxChars),
    fileIds: z.array(z.uuid()).max(10).optional(),
  });
