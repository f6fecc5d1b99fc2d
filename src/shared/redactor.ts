/**
 * Keeps secrets out of every text the server lets go of: error texts that reach clients, the
 * database, the replay log or a model, and log lines. The configured secrets (API keys, the JWT
 * secret, database and Redis passwords) are matched by value, as written, JSON-escaped and
 * percent-encoded; key-shaped strings and bearer tokens of anything else by pattern.
 */
export interface Redactor {
  redact(text: string): string;
}

export const REDACTED = '[redacted]';

/** Shorter values are not matched by value: they would blank ordinary words. */
export const MIN_SECRET_CHARS = 8;

/** Strings shaped like API keys or bearer tokens, whoever they belong to. */
export function redactKeyPatterns(text: string): string {
  return text
    .replace(/\b(sk|tvly|pk|rk)-[A-Za-z0-9_*-]{6,}/g, `$1-${REDACTED}`)
    .replace(/(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi, `$1${REDACTED}`);
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function createRedactor(secrets: Iterable<string | undefined>): Redactor {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (!secret || secret.length < MIN_SECRET_CHARS) continue;
    forms.add(secret);
    forms.add(JSON.stringify(secret).slice(1, -1));
    forms.add(encodeURIComponent(secret));
  }
  // Longest first, so a secret that contains another is replaced whole.
  const sorted = [...forms].sort((a, b) => b.length - a.length);
  const byValue = sorted.length ? new RegExp(sorted.map(escapeRegExp).join('|'), 'g') : undefined;
  return {
    redact: (text) => redactKeyPatterns(byValue ? text.replace(byValue, REDACTED) : text),
  };
}
