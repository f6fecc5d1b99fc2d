// Shared by the worker-thread entries: how an error crosses the thread boundary.
/** ParseErrors keep their code and retryability across the thread boundary; anything else keeps its message. */
export function serializeError(err) {
  if (err && typeof err === 'object' && err.name === 'ParseError' && typeof err.toJSON === 'function') {
    return { parseError: err.toJSON() };
  }
  return { name: err?.name ?? 'Error', message: err?.message ?? String(err) };
}
