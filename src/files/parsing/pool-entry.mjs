// Bootstrap of a pooled parse thread (see worker-pool.ts): installs the TypeScript hooks once,
// then runs task after task, each answered with its id: progress, then the result or the error.
import { parentPort } from 'node:worker_threads';
import './worker-ts-hooks.mjs';

/** ParseErrors keep their code and retryability across the thread boundary; anything else keeps its message. */
function serializeError(err) {
  if (err && typeof err === 'object' && err.name === 'ParseError' && typeof err.toJSON === 'function') {
    return { parseError: err.toJSON() };
  }
  return { name: err?.name ?? 'Error', message: err?.message ?? String(err) };
}

/** Task modules loaded so far: a thread's later tasks skip the module loader. */
const modules = new Map();

parentPort.on('message', async ({ id, moduleUrl, exportName, input }) => {
  try {
    let mod = modules.get(moduleUrl);
    if (!mod) modules.set(moduleUrl, (mod = await import(moduleUrl)));
    const fn = mod[exportName];
    if (typeof fn !== 'function') throw new Error(`${moduleUrl} has no export "${exportName}"`);
    const result = await fn(input, (fraction) => parentPort.postMessage({ id, type: 'progress', fraction }));
    parentPort.postMessage({ id, type: 'result', result });
  } catch (err) {
    parentPort.postMessage({ id, type: 'error', error: serializeError(err) });
  }
});
