import net from 'node:net';

/**
 * A TCP proxy in front of PostgreSQL that a fault test controls: it resets connections now, cuts
 * the connection at a chosen COMMIT, or refuses connections for a while. It reads the PostgreSQL
 * wire protocol just enough to find statements: after the untyped start-up message(s), every
 * message is a type byte and an int32 length; a simple query ('Q') and an extended-protocol parse
 * ('P') carry the SQL text, and a bind ('B') names the prepared statement it runs. A statement
 * run on its own commits at its end: at the simple query, or at the Sync ('S') after its bind.
 */

/**
 * Where a COMMIT is cut:
 * - `before`: the COMMIT is not forwarded; the server rolls back.
 * - `during`: the COMMIT is forwarded and the connection cut at once; the server commits, the
 *   client never hears it.
 * - `after`: the server's answer to the COMMIT reaches the client, and the connection is cut when
 *   the client next uses it: the commit stands, and the statement after it finds the connection
 *   gone (a pool hands a just-released connection out again first).
 */
export type CommitCut = 'before' | 'during' | 'after';

export interface PgProxy {
  port: number;
  /** The database URL with host and port replaced by the proxy's. */
  urlFor(databaseUrl: string): string;
  /** Resets every open connection; resolves with how many there were. */
  resetAll(): number;
  /**
   * Cuts the connection at the next COMMIT of a transaction that ran a statement matching
   * `inTransaction` (any transaction when absent). A statement matching it that runs on its own,
   * outside a transaction (a simple query), commits by itself: it is cut as its own COMMIT would
   * be. Resolves once the cut happened (`after`: once the connection was used again).
   */
  cutCommit(when: CommitCut, inTransaction?: RegExp): Promise<void>;
  /** Cuts every open connection and refuses new ones until `unblock()`. */
  block(): void;
  unblock(): void;
  /** Counters, for a test to show its faults happened. */
  stats: { connections: number; resets: number; commitCuts: number };
  close(): Promise<void>;
}

interface Arm {
  when: CommitCut;
  inTransaction?: RegExp;
  done: () => void;
}

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;

export async function startPgProxy(target: { host: string; port: number }): Promise<PgProxy> {
  const open = new Set<{ cut(): void }>();
  const arms: Arm[] = [];
  let blocked = false;
  const stats = { connections: 0, resets: 0, commitCuts: 0 };

  const server = net.createServer((client) => {
    if (blocked) {
      client.resetAndDestroy();
      return;
    }
    stats.connections++;
    const upstream = net.connect(target.port, target.host);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    let cutDone = false;
    const conn = {
      cut() {
        if (cutDone) return;
        cutDone = true;
        open.delete(conn);
        client.resetAndDestroy();
        upstream.destroy();
      },
    };
    open.add(conn);
    const drop = () => {
      open.delete(conn);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);

    // Client to server: framed, so a COMMIT can be held back or followed by a cut.
    let fromClient = Buffer.alloc(0);
    let untyped = 1; // messages still expected without a type byte (start-up, SSL/GSS requests)
    let sslAnswerPending = 0; // single-byte answers the server owes to SSL/GSS requests
    let inTransaction = false;
    let statements: string[] = [];
    let cutAfterReply: Arm | null = null;
    /** The command tag whose answer `cutAfterReply` waits for (null: any command's). */
    let replyTag: string | null = null;
    let cutAtNextMessage: Arm | null = null;
    /** Statements the client prepared on this connection, by name (the unnamed one as ''). */
    const prepared = new Map<string, string>();
    /** An extended-protocol run of a statement that commits on its own, held until its Sync. */
    let held: { arm: Arm; msgs: Buffer[] } | null = null;

    /** Cuts at a commit point (`msg` commits); true when the connection is gone now. */
    const cutAt = (arm: Arm, msg: Buffer, tag: string | null): boolean => {
      arms.splice(arms.indexOf(arm), 1);
      stats.commitCuts++;
      if (arm.when === 'before') {
        conn.cut();
        arm.done();
        return true;
      }
      if (arm.when === 'during') {
        // The server reads the COMMIT and then the end of the stream: it commits, then
        // finds the client gone. The client is reset at once and hears nothing.
        cutDone = true;
        open.delete(conn);
        client.resetAndDestroy();
        upstream.end(msg);
        arm.done();
        return true;
      }
      cutAfterReply = arm;
      replyTag = tag;
      return false;
    };

    client.on('data', (chunk: Buffer) => {
      fromClient = Buffer.concat([fromClient, chunk]);
      if (cutAtNextMessage && fromClient.length > 0) {
        const arm = cutAtNextMessage;
        cutAtNextMessage = null;
        conn.cut();
        arm.done();
        return;
      }
      for (;;) {
        if (cutDone) return;
        if (untyped > 0) {
          if (fromClient.length < 8) return;
          const len = fromClient.readInt32BE(0);
          if (fromClient.length < len) return;
          const code = fromClient.readInt32BE(4);
          const msg = fromClient.subarray(0, len);
          fromClient = fromClient.subarray(len);
          if (code === SSL_REQUEST || code === GSSENC_REQUEST) sslAnswerPending++;
          else untyped--;
          upstream.write(msg);
          continue;
        }
        if (fromClient.length < 5) return;
        const len = fromClient.readInt32BE(1);
        if (fromClient.length < 1 + len) return;
        const type = String.fromCharCode(fromClient[0]!);
        const msg = fromClient.subarray(0, 1 + len);
        fromClient = fromClient.subarray(1 + len);
        if (held) {
          // The statement's Bind, Describe and Execute wait for its Sync: that is where it commits.
          held.msgs.push(msg);
          if (type !== 'S') continue;
          const { arm, msgs } = held;
          held = null;
          const all = Buffer.concat(msgs);
          if (cutAt(arm, all, null)) return;
          upstream.write(all);
          continue;
        }
        if (type === 'P') prepared.set(cstring(msg, 5), cstring(msg, 5 + cstring(msg, 5).length + 1));
        if (type === 'B') {
          // A run of a prepared statement: the SQL is the one parsed under its name, perhaps on an earlier run.
          const portal = cstring(msg, 5);
          const bound = prepared.get(cstring(msg, 5 + portal.length + 1)) ?? '';
          const arm = !inTransaction ? arms.find((a) => a.inTransaction?.test(bound)) : undefined;
          if (arm) {
            held = { arm, msgs: [msg] };
            continue;
          }
          if (inTransaction) statements.push(bound);
        }
        const sql = type === 'Q' ? cstring(msg, 5) : type === 'P' ? cstring(msg, 5 + cstring(msg, 5).length + 1) : null;
        if (sql !== null) {
          const s = sql.trim().toLowerCase();
          if (/^(begin|start transaction)\b/.test(s)) {
            inTransaction = true;
            statements = [];
          } else if (/^commit\b/.test(s)) {
            const ran = statements;
            inTransaction = false;
            statements = [];
            const arm = arms.find((a) => !a.inTransaction || ran.some((x) => a.inTransaction!.test(x)));
            if (arm && cutAt(arm, msg, 'COMMIT')) return;
          } else if (!inTransaction && type === 'Q' && arms.some((a) => a.inTransaction?.test(sql))) {
            // A statement on its own: its end is its commit.
            if (cutAt(arms.find((a) => a.inTransaction?.test(sql))!, msg, null)) return;
          } else if (/^rollback\b/.test(s)) {
            inTransaction = false;
            statements = [];
          } else if (inTransaction) {
            statements.push(sql);
          }
        }
        upstream.write(msg);
      }
    });

    // Server to client: framed as well, to cut right after the answer to a COMMIT.
    let fromServer = Buffer.alloc(0);
    let commitAnswered = false;
    upstream.on('data', (chunk: Buffer) => {
      if (cutDone) return;
      fromServer = Buffer.concat([fromServer, chunk]);
      for (;;) {
        if (sslAnswerPending > 0) {
          if (fromServer.length < 1) return;
          sslAnswerPending--;
          client.write(fromServer.subarray(0, 1));
          fromServer = fromServer.subarray(1);
          continue;
        }
        if (fromServer.length < 5) return;
        const len = fromServer.readInt32BE(1);
        if (fromServer.length < 1 + len) return;
        const type = String.fromCharCode(fromServer[0]!);
        const msg = fromServer.subarray(0, 1 + len);
        fromServer = fromServer.subarray(1 + len);
        client.write(msg);
        if (cutAfterReply) {
          if (type === 'C' && (replyTag === null || cstring(msg, 5) === replyTag)) commitAnswered = true;
          if (type === 'Z' && commitAnswered) {
            cutAtNextMessage = cutAfterReply;
            cutAfterReply = null;
            commitAnswered = false;
          }
        }
      }
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;

  const resetAll = () => {
    const n = open.size;
    for (const c of [...open]) c.cut();
    stats.resets += n;
    return n;
  };

  return {
    port,
    stats,
    urlFor(databaseUrl) {
      const u = new URL(databaseUrl);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    resetAll,
    cutCommit(when, inTransaction) {
      return new Promise<void>((resolve) => arms.push({ when, inTransaction, done: resolve }));
    },
    block() {
      blocked = true;
      resetAll();
    },
    unblock() {
      blocked = false;
    },
    async close() {
      arms.length = 0;
      resetAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The NUL-terminated string at `offset`. */
function cstring(buf: Buffer, offset: number): string {
  const end = buf.indexOf(0, offset);
  return buf.toString('utf8', offset, end < 0 ? buf.length : end);
}
