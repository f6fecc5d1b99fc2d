import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

/** A clean environment: nothing of the test runner's configuration leaks into the child. */
export function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const keep = ['PATH', 'HOME', 'LANG', 'TMPDIR'];
  const env: Record<string, string> = {};
  for (const k of keep) if (process.env[k]) env[k] = process.env[k]!;
  return { ...env, ...extra };
}

export interface Spawned {
  child: ChildProcess;
  output(): string;
  /** Resolves with the first stderr/stdout line matching `re`. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Spawns `npm run <script>` in its own process group so that stop() ends the whole tree. */
export function spawnNpm(args: string[], env: Record<string, string>): Spawned {
  return spawnProcess('npm', args, env);
}

/** Spawns a command in the repository, in its own process group so that stop() ends the whole tree. */
export function spawnProcess(command: string, args: string[], env: Record<string, string>, opts: { cwd?: string } = {}): Spawned {
  const child = spawn(command, args, { cwd: opts.cwd ?? REPO_ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const w of [...waiters]) {
      const m = out.match(w.re);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    waitFor(re, timeoutMs = 60_000) {
      const m = out.match(re);
      if (m) return Promise.resolve(m);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re}; output:\n${out.slice(-2000)}`)), timeoutMs);
        waiters.push({
          re,
          resolve: (x) => {
            clearTimeout(timer);
            resolve(x);
          },
        });
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`process exited (${code}) before ${re}; output:\n${out.slice(-2000)}`));
        });
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null) return child.exitCode;
      try {
        process.kill(-child.pid!, signal);
      } catch {
        /* already gone */
      }
      return exited;
    },
  };
}

/** Runs `npm run <script>` to completion and returns its stdout. */
export function runNpm(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('npm', args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The server's "listening" log line (pino writes `msg` last); group 1 is its URL. */
export const LISTENING = /"url":"(http:\/\/[^"]+)"[^\n]*"msg":"listening"/;
