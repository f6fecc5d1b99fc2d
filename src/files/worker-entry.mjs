// Bootstrap of a parse worker thread (see worker-task.ts): installs the TypeScript hooks, imports
// the task module and runs one exported function, posting progress, then the result or the error.
import { parentPort, workerData } from 'node:worker_threads';
import './worker-ts-hooks.mjs';
import { serializeError } from './worker-errors.mjs';

const { moduleUrl, exportName, input } = workerData;
try {
  const mod = await import(moduleUrl);
  const fn = mod[exportName];
  if (typeof fn !== 'function') throw new Error(`${moduleUrl} has no export "${exportName}"`);
  const result = await fn(input, (fraction) => parentPort.postMessage({ type: 'progress', fraction }));
  parentPort.postMessage({ type: 'result', result });
} catch (err) {
  parentPort.postMessage({ type: 'error', error: serializeError(err) });
}
