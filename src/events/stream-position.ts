import { randomFillSync } from 'node:crypto';

/**
 * A place in a room's event stream. A stream is numbered from 1 within its epoch; the epoch is made
 * with the stream's counter, so a store that loses the counter (Redis restarted empty, an embedded
 * server restarted) starts the room on a new epoch rather than reusing seqs already handed out.
 */
export interface StreamPosition {
  epoch: string;
  seq: number;
}

const EPOCH_BYTES = 9;
/** Random bytes for this many epochs, drawn at once: Redis mode offers a fresh epoch with every publish. */
const pool = Buffer.alloc(EPOCH_BYTES * 256);
let used = pool.length;

/** A fresh epoch: random, so that no restart can make one a room already had. */
export function newEpoch(): string {
  if (used === pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  used += EPOCH_BYTES;
  return pool.toString('base64url', used - EPOCH_BYTES, used);
}
