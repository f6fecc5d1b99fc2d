/**
 * SQLSTATE classes after which the same statement may succeed: a lost connection (08), a
 * transaction that lost a serialization or deadlock race (40), a server short of resources (53) or
 * shutting down or starting (57).
 */
const TRANSIENT_CLASSES = new Set(['08', '40', '53', '57']);

/** Socket errors of the connection (Node's `code`). */
const NETWORK_CODES = /^E(CONNRESET|CONNREFUSED|CONNABORTED|PIPE|TIMEDOUT|HOSTUNREACH|NETUNREACH|AI_AGAIN)$/;

/** What `pg` says when the socket under a query goes away; these errors carry no SQLSTATE. */
const CONNECTION_LOST = /connection terminated|connection error|not queryable|socket|ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|timeout exceeded when trying to connect/i;

/**
 * True for an error after which trying again may work: the connection to the database was lost or
 * the server refused the moment. False for an error the statement itself causes (a constraint,
 * bad data, a missing row): trying it again would fail the same way.
 */
export function isTransientDbError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && NETWORK_CODES.test(code)) return true;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return TRANSIENT_CLASSES.has(code.slice(0, 2));
  return CONNECTION_LOST.test(err.message);
}
