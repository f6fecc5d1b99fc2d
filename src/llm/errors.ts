import { GraphRecursionError } from '@langchain/langgraph';

/**
 * Model failures are results, not exceptions, above this layer: the turn records them on the
 * agent's message and moves on. These are the stable codes the client sees in `agent:end`.
 */
export type ModelFailureCode = 'MODEL_ERROR' | 'MODEL_TIMEOUT' | 'MODEL_STREAM_ERROR' | 'TOOL_LOOP_LIMIT';

export interface ModelFailure {
  code: ModelFailureCode;
  message: string;
  /** HTTP status from the model server, when it answered with an error. */
  status?: number;
}

/** Thrown by the deadline when a model call ran longer than allowed. */
export class ModelTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`The model did not finish within ${timeoutMs} ms`);
    this.name = 'ModelTimeoutError';
  }
}

/** Key-like strings never leave the server, even inside a provider's error message. */
export function redactSecrets(text: string): string {
  return text
    .replace(/\b(sk|tvly|pk|rk)-[A-Za-z0-9_*-]{6,}/g, '$1-[redacted]')
    .replace(/(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi, '$1[redacted]');
}

const statusOf = (err: unknown): number | undefined => {
  const status = (err as { status?: unknown } | null)?.status;
  return typeof status === 'number' && status >= 100 ? status : undefined;
};

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
  const message = redactSecrets(err instanceof Error ? err.message : String(err)).slice(0, 500);
  const status = statusOf(err);
  if (status !== undefined) return { code: 'MODEL_ERROR', message: `The model server answered ${status}: ${message}`, status };
  if (opts.streamStarted || isBodyCut(err)) return { code: 'MODEL_STREAM_ERROR', message: `The model's stream broke off: ${message}` };
  return { code: 'MODEL_ERROR', message: `The model call failed: ${message}` };
}

/** undici's error when the response body ends abruptly: `TypeError: terminated`, caused by a socket error. */
function isBodyCut(err: unknown): boolean {
  const e = err as { message?: unknown; cause?: { code?: unknown } } | null;
  return e?.message === 'terminated' || e?.cause?.code === 'UND_ERR_SOCKET';
}
