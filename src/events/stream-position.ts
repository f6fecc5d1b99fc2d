import { randomBytes } from 'node:crypto';

/**
 * A place in a room's event stream. A stream is numbered from 1 within its epoch; the epoch is made
 * with the stream's counter, so a store that loses the counter (Redis restarted empty, an embedded
 * server restarted) starts the room on a new epoch rather than reusing seqs already handed out.
 */
export interface StreamPosition {
  epoch: string;
  seq: number;
}

/** A fresh epoch: random, so that no restart can make one a room already had. */
export const newEpoch = (): string => randomBytes(9).toString('base64url');
