import { ModelTimeoutError } from './errors';

/**
 * Runs `fn` with a signal that aborts when the caller's signal does or when `timeoutMs` passes,
 * whichever is first. A timeout surfaces as ModelTimeoutError; a caller abort as the caller's
 * reason (the caller knows it cancelled). Aborting the signal is what closes the HTTP request.
 */
export async function withDeadline<T>(timeoutMs: number, callerSignal: AbortSignal | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  // Made when it fires: an error's stack costs more than a short call's own work.
  let timeout: ModelTimeoutError | undefined;
  const timer = setTimeout(() => controller.abort((timeout = new ModelTimeoutError(timeoutMs))), timeoutMs);
  const onCallerAbort = () => controller.abort(callerSignal?.reason);
  if (callerSignal?.aborted) onCallerAbort();
  else callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
  try {
    return await fn(controller.signal);
  } catch (err) {
    if (timeout && controller.signal.reason === timeout && !callerSignal?.aborted) throw timeout;
    throw err;
  } finally {
    clearTimeout(timer);
    callerSignal?.removeEventListener('abort', onCallerAbort);
  }
}
