import type { ErrorBody } from '../contract/dto';

/**
 * Errors with stable codes. Transport layers turn an AppError into
 * `{ error: { code, message, details? } }`; anything else becomes INTERNAL with a generic message.
 */
export const ErrorCodes = {
  VALIDATION_FAILED: 400,
  MALFORMED_JSON: 400,
  UNKNOWN_TOOL: 400,
  UNKNOWN_MODEL_ALIAS: 400,
  UNSUPPORTED_MEDIA_TYPE: 415,
  PAYLOAD_TOO_LARGE: 413,
  // Uploads, checked by their bytes (src/files/upload/sniff.ts).
  EMPTY_FILE: 400,
  FILE_TOO_LARGE: 413,
  FILE_TYPE_MISMATCH: 415,
  UNSUPPORTED_FILE_TYPE: 415,
  TEXT_ENCODING: 415,
  /** Too many uploads in progress: the caller's own, or this node's. */
  UPLOAD_BUSY: 429,
  /** The upload body stalled or took too long; nothing was stored. */
  UPLOAD_TIMEOUT: 408,
  UNAUTHENTICATED: 401,
  TOKEN_INVALID: 401,
  TOKEN_EXPIRED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  ROOM_NOT_FOUND: 404,
  SESSION_NOT_FOUND: 404,
  AGENT_NOT_FOUND: 404,
  TURN_NOT_FOUND: 404,
  FILE_NOT_FOUND: 404,
  /** No tool call of the turn waits for approval under this id. */
  APPROVAL_NOT_FOUND: 404,
  /** The tool call was already answered, timed out or cancelled; details `{ status, reason }`. */
  APPROVAL_NOT_PENDING: 409,
  USER_NOT_FOUND: 404,
  MESSAGE_NOT_FOUND: 404,
  AGENT_KEY_TAKEN: 409,
  ALREADY_MEMBER: 409,
  LAST_OWNER: 409,
  ALREADY_JOINED: 409,
  JOIN_IN_PROGRESS: 409,
  /** An attached file is still being parsed, or failed; details `{ fileId, status }`. */
  FILE_NOT_READY: 409,
  /** A turn that has not ended yet cannot be regenerated; details `{ status }`. */
  TURN_NOT_FINISHED: 409,
  /** The message was deleted; it can no longer be edited. */
  MESSAGE_DELETED: 409,
  /** A count cap (rooms per user, agents or sessions per room); details `{ limit, max }`. */
  LIMIT_REACHED: 409,
  /** The session already has its cap of queued turns; details `{ limit, max }`. Retry once turns ran. */
  QUEUE_FULL: 429,
  /** The room's busyPolicy is `reject` and a turn of the session runs or waits; details `{ turnId, sessionId }`. */
  SESSION_BUSY: 409,
  RATE_LIMITED: 429,
  /** A model call over a room's, a user's or an agent's budget (in agent:end / turn:end); details `{ budget, resetsAt }`. */
  BUDGET_EXCEEDED: 429,
  TOO_MANY_CONNECTIONS: 429,
  UNKNOWN_EVENT: 400,
  INTERNAL: 500,
  UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AppError';
    this.status = ErrorCodes[code];
  }

  toBody(): ErrorBody {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;

/** The body for any thrown value: AppErrors keep their code, anything else is a generic INTERNAL. */
export function toErrorBody(e: unknown): { status: number; body: ErrorBody } {
  if (isAppError(e)) return { status: e.status, body: e.toBody() };
  return { status: 500, body: { code: 'INTERNAL', message: 'Internal server error' } };
}
