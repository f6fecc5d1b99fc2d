/** How a repeated attempt waits and when it stops. */
export interface RetryOptions {
  /** Errors worth another attempt; any other is thrown at once. */
  retryable: (err: unknown) => boolean;
  /** Stops waiting and throws the last error once aborted (shutdown). */
  signal?: AbortSignal;
  /** At most this many attempts; unbounded when absent (until `signal`). */
  attempts?: number;
  /** Called before each wait, e.g. to log. */
  onRetry?: (err: unknown, attempt: number) => void;
}

const FIRST_DELAY_MS = 20;
const MAX_DELAY_MS = 1_000;

/** The wait before attempt `attempt + 1`: doubling from 20 ms, at most 1 s, with jitter. */
export const backoffMs = (attempt: number): number => {
  const base = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** Math.min(attempt - 1, 16));
  return base / 2 + Math.random() * (base / 2);
};

/** Resolves after `ms`, or false at once when `signal` is (or becomes) aborted. */
export function pause(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(ok);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `fn` until it succeeds, waiting a bounded, growing time between attempts. Used for writes
 * that must be stored (a turn's status, an announcement mark) and for the reads that decide them.
 */
export async function retry<T>(fn: () => Promise<T>, o: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!o.retryable(err) || (o.attempts !== undefined && attempt >= o.attempts)) throw err;
      o.onRetry?.(err, attempt);
      if (!(await pause(backoffMs(attempt), o.signal))) throw err;
    }
  }
}
