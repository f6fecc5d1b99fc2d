import { hostname } from 'node:os';
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';

/**
 * Structured logs: one JSON object a line on stdout (pino), `level` as a word, `time` in ISO
 * form. Never pass secrets or tokens to it; `redact` (the server's Redactor) still runs over
 * every written line, for secrets quoted in others' error texts.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

/** Where lines go: stdout by default; tests pass a stream of their own. */
export type LogDestination = DestinationStream;

/**
 * An Error under `err` goes through pino's serializer (type, message, stack, its own fields such
 * as `code`); an Error under any other key is written as its name, message and stack (not `{}`).
 */
function serializeFields(fields: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(fields)) {
    if (k !== 'err' && v instanceof Error) {
      out ??= { ...fields };
      out[k] = { name: v.name, message: v.message, stack: v.stack };
    }
  }
  return out ?? fields;
}

function wrap(p: PinoLogger): Logger {
  const write = (level: 'debug' | 'info' | 'warn' | 'error') => (msg: string, fields?: Record<string, unknown>) => {
    if (!p.isLevelEnabled(level)) return;
    if (fields) p[level](serializeFields(fields), msg);
    else p[level](msg);
  };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (fields) => wrap(p.child(serializeFields(fields))),
  };
}

export function createLogger(
  level: LogLevel,
  base: Record<string, unknown> = {},
  redact: (line: string) => string = (l) => l,
  destination: LogDestination = process.stdout,
): Logger {
  const p = pino(
    {
      level,
      // The node that wrote the line: replicas write to one log.
      base: { pid: process.pid, hostname: hostname(), ...base },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // Secrets quoted in a provider's or driver's text are blanked on the finished line.
      hooks: { streamWrite: (line) => redact(line) },
    },
    destination,
  );
  return wrap(p);
}
