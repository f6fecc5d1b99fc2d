import { closeSync, constants, accessSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A start-up problem the operator must fix; main prints its message and exits 1. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}

const LOCK_FILE = 'pantheon.lock';
/** Lock files taken by this process, so a restart within one process (tests) is told apart from a second server. */
const heldHere = new Set<string>();

/** Makes sure DATA_DIR exists and this process can write there; the error names the folder and why not. */
export function ensureWritableDataDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const who = typeof process.getuid === 'function' ? ` (user id ${process.getuid()})` : '';
    throw new StartupError(
      `DATA_DIR ${dir} cannot be used: ${e.code === 'EACCES' || e.code === 'EPERM' ? `no permission to create or write it${who}` : e.message}. ` +
        'Point DATA_DIR at a folder this process may write, or fix its permissions.',
    );
  }
}

/**
 * Embedded mode keeps its database in DATA_DIR: two servers on one folder would overwrite each
 * other's writes. The first server holds `DATA_DIR/pantheon.lock` (its pid and host); a second one
 * refuses to start. A lock left by a process that died is taken over.
 */
export function lockDataDir(dir: string): () => void {
  const file = path.join(dir, LOCK_FILE);
  const owner = JSON.stringify({ pid: process.pid, host: os.hostname(), since: new Date().toISOString() });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o644);
      writeSync(fd, owner);
      closeSync(fd);
      heldHere.add(file);
      return once(() => {
        heldHere.delete(file);
        rmSync(file, { force: true });
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = readHolder(file);
      if (holder && isAlive(holder, file)) {
        throw new StartupError(
          `DATA_DIR ${dir} is in use by another Pantheon server (pid ${holder.pid} on ${holder.host}, since ${holder.since}). ` +
            'Two servers on one embedded database would lose writes: give each its own DATA_DIR, or use DATABASE_URL. ' +
            `If no such server runs, delete ${file}.`,
        );
      }
      rmSync(file, { force: true });
    }
  }
  throw new StartupError(`DATA_DIR ${dir}: could not take the lock ${file}`);
}

interface Holder {
  pid: number;
  host: string;
  since: string;
}

function readHolder(file: string): Holder | null {
  try {
    const h = JSON.parse(readFileSync(file, 'utf8')) as Partial<Holder>;
    return typeof h.pid === 'number' ? { pid: h.pid, host: String(h.host ?? '?'), since: String(h.since ?? '?') } : null;
  } catch {
    return null;
  }
}

function isAlive(h: Holder, file: string): boolean {
  // Another host's process cannot be checked from here: assume it runs.
  if (h.host !== os.hostname()) return true;
  // Our own pid: held only if this process took it (a container restart reuses pid 1).
  if (h.pid === process.pid) return heldHere.has(file);
  try {
    process.kill(h.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}
