import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ChildInit, ChildStart, CpuSample, MemSample } from './server-child';

const ENTRY = fileURLToPath(new URL('./server-child.ts', import.meta.url));

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

/**
 * A server under test in a child process (same Node binary, tsx loader, --expose-gc), spoken to
 * over IPC. `stop()` closes the server and waits for the process to exit (kills it after 20 s).
 */
export class ServerChild {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private exited: Promise<void>;

  private constructor(
    private readonly proc: ChildProcess,
    readonly url: string,
  ) {
    this.exited = new Promise((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) resolve();
      else proc.once('exit', () => resolve());
    });
    proc.on('message', (msg: { id?: number; ok?: boolean; result?: unknown; error?: string }) => {
      if (msg.id === undefined) return;
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.result);
      else p.reject(new Error(msg.error));
    });
    proc.once('exit', (code, signal) => {
      for (const p of this.pending.values()) p.reject(new Error(`server child exited (${code ?? signal})`));
      this.pending.clear();
    });
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  static start(init: ChildStart, timeoutMs = 120_000): Promise<ServerChild> {
    // BENCH_CPU_PROF=<dir>: write a V8 CPU profile of each server child there (to see where time goes).
    const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
    const proc = fork(ENTRY, [], {
      execArgv: ['--import', 'tsx', '--expose-gc', ...prof],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`server child (${init.mode}) did not start within ${timeoutMs} ms`));
      }, timeoutMs);
      const onExit = (code: number | null) => {
        clearTimeout(timer);
        reject(new Error(`server child (${init.mode}) exited during start (code ${code})`));
      };
      proc.once('exit', onExit);
      proc.on('message', function first(msg: { type?: string; url?: string; error?: string }) {
        if (msg.type === 'ready') {
          clearTimeout(timer);
          proc.off('exit', onExit);
          proc.off('message', first);
          resolve(new ServerChild(proc, msg.url!));
        } else if (msg.type === 'failed') {
          clearTimeout(timer);
          proc.off('exit', onExit);
          proc.off('message', first);
          proc.kill('SIGKILL');
          reject(new Error(`server child (${init.mode}) failed to start:\n${msg.error}`));
        }
      });
      proc.send({ type: 'init', ...init } as ChildInit);
    });
  }

  request<T>(type: string, extra: Record<string, unknown> = {}, timeoutMs = 120_000): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`server child did not answer "${type}" within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.proc.send({ id, type, ...extra });
    });
  }

  mem = () => this.request<MemSample>('mem');
  cpu = () => this.request<CpuSample>('cpu');
  sockets = () => this.request<number>('sockets');

  async stop(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null && this.proc.connected) {
      await this.request('close', {}, 20_000).catch(() => undefined);
    }
    const killer = setTimeout(() => this.proc.kill('SIGKILL'), 20_000);
    await this.exited;
    clearTimeout(killer);
  }
}
