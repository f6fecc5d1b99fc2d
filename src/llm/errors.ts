import { GraphRecursionError } from '@langchain/langgraph';
import { redactKeyPatterns } from '../shared/redactor';

/**
 * Model failures are results, not exceptions, above this layer: the turn records them on the
 * agent's message and moves on. These are the stable codes the client sees in `agent:end`.
 */
export type ModelFailureCode = 'MODEL_ERROR' | 'MODEL_TIMEOUT' | 'MODEL_STREAM_ERROR' | 'TOOL_LOOP_LIMIT';

export interface ModelFailure {
  code: ModelFailureCode;
  /** Our own words, safe for every member, the audit and the database: never the provider's text. */
  message: string;
  /** HTTP status from the model server, when it answered with an error. */
  status?: number;
  /** The provider's own text, for the server log only (which redacts configured secrets). */
  detail?: string;
}

/** Thrown by the deadline when a model call ran longer than allowed. */
export class ModelTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`The model did not finish within ${timeoutMs} ms`);
    this.name = 'ModelTimeoutError';
  }
}

const statusOf = (err: unknown): number | undefined => {
  const status = (err as { status?: unknown } | null)?.status;
  return typeof status === 'number' && status >= 100 ? status : undefined;
};

/**
 * What members are told about a provider's HTTP error: a reason per status, never the provider's
 * text (it may quote the request, credentials included).
 */
export function providerStatusReason(status: number): string {
  if (status === 401 || status === 403) return `The model provider refused the credentials (${status})`;
  if (status === 429) return 'The model provider is rate limiting requests (429)';
  if (status === 408 || status === 504) return `The model provider timed out (${status})`;
  if (status >= 500) return `The model provider is unavailable (${status})`;
  return `The model provider refused the request (${status})`;
}

/**
 * Classifies anything a model call threw. An HTTP error answer is MODEL_ERROR with its status;
 * a failure with no HTTP status after the stream started (socket cut, bad frame) is
 * MODEL_STREAM_ERROR; one before anything arrived (refused, DNS) is MODEL_ERROR.
 */
export function classifyModelError(err: unknown, opts: { streamStarted: boolean }): ModelFailure {
  if (err instanceof ModelTimeoutError) return { code: 'MODEL_TIMEOUT', message: err.message };
  if (err instanceof GraphRecursionError || (err as Error | null)?.name === 'GraphRecursionError') {
    return { code: 'TOOL_LOOP_LIMIT', message: 'The agent kept calling tools past the step limit' };
  }
  const detail = redactKeyPatterns(err instanceof Error ? err.message : String(err)).slice(0, 500);
  const status = statusOf(err);
  if (status !== undefined) return { code: 'MODEL_ERROR', message: providerStatusReason(status), status, detail };
  if (opts.streamStarted || isBodyCut(err)) return { code: 'MODEL_STREAM_ERROR', message: "The model's stream broke off", detail };
  return { code: 'MODEL_ERROR', message: 'The model server could not be reached', detail };
}

/** undici's error when the response body ends abruptly: `TypeError: terminated`, caused by a socket error. */
function isBodyCut(err: unknown): boolean {
  const e = err as { message?: unknown; cause?: { code?: unknown } } | null;
  return e?.message === 'terminated' || e?.cause?.code === 'UND_ERR_SOCKET';
}
