// Tasks that misbehave on purpose, run by worker-pool.test.ts inside a worker thread.
import { ParseError } from '../../../../src/files/parse-error';

export async function echo(input: { value: string }, progress: (f: number) => void) {
  progress(0.5);
  progress(1);
  return { echoed: input.value };
}

/** Never returns and never yields: only terminating the thread stops it. */
export function spin(): never {
  for (;;) {
    /* busy */
  }
}

/** Keeps allocating heap objects until the heap limit is hit. */
export function hog(): never {
  const kept: string[][] = [];
  for (;;) kept.push(Array.from({ length: 10_000 }, (_, i) => `row ${i} ${kept.length}`));
}

export async function parseFailure() {
  throw new ParseError('CSV_MALFORMED', 'broken on purpose');
}

export async function crash() {
  throw new TypeError('a bug in a parser');
}

export function exitEarly(): never {
  process.exit(3);
}

/** The id of the thread that ran the task: tells a reused thread from a fresh one. */
export async function whichThread() {
  const { threadId } = await import('node:worker_threads');
  return threadId;
}
