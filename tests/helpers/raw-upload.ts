import { randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

/**
 * A multipart upload written by hand over node:http, so a test decides when each byte goes out:
 * it can stall, drip, or hold the body open before its closing boundary.
 */
export interface RawUpload {
  /** Writes body bytes, waiting while the socket's buffer is full (so the client holds little). */
  write(chunk: Uint8Array | string): Promise<void>;
  /** Writes the closing boundary and ends the request. */
  end(): void;
  /** The answer, whenever it comes (possibly before the body is complete). */
  response: Promise<{ status: number; body: any }>;
  /** Resolves when the connection is closed, by either side. */
  closed: Promise<void>;
  destroy(): void;
}

export function startUpload(baseUrl: string, token: string, roomId: string, filename: string): RawUpload {
  const boundary = `----pantheon${randomBytes(8).toString('hex')}`;
  const req = http.request(`${baseUrl}/api/v1/rooms/${roomId}/files`, {
    method: 'POST',
    agent: false, // a connection of its own: the server may close it, and a test may watch it from the server side
    headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
  });
  let answered = false;
  const response = new Promise<{ status: number; body: any }>((resolve, reject) => {
    req.on('response', (res) => {
      answered = true;
      const parts: Buffer[] = [];
      res.on('data', (b: Buffer) => parts.push(b));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          /* not JSON */
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
      res.on('error', reject);
    });
    // Once answered, the server may close while we still write: that is expected.
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
  });
  response.catch(() => undefined);
  const closed = new Promise<void>((resolve) => req.on('socket', (s) => (s.destroyed ? resolve() : s.once('close', () => resolve()))));
  req.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`);
  return {
    async write(chunk) {
      if (req.destroyed || req.writableEnded) return;
      if (req.write(chunk)) return;
      await new Promise<void>((resolve) => {
        const go = () => {
          req.off('drain', go);
          req.off('close', go);
          resolve();
        };
        req.on('drain', go);
        req.on('close', go);
      });
    },
    end() {
      req.end(`\r\n--${boundary}--\r\n`);
    },
    response,
    closed,
    destroy: () => req.destroy(),
  };
}

/** Polls `cond` until it holds (an event the server does not announce), failing after `timeoutMs`. */
export async function waitFor(cond: () => boolean, label: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Staging files of a server's DATA_DIR (uploads being received), with their sizes. */
export function stagingFiles(dataDir: string): { name: string; size: number }[] {
  const dir = path.join(dataDir, 'tmp');
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    try {
      return [{ name, size: statSync(path.join(dir, name)).size }];
    } catch {
      return [];
    }
  });
}
