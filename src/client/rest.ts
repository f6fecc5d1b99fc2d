// The REST half of the SDK: typed calls to /api/v1 with the client's token, and uploads with
// progress (a streamed multipart body through fetch in Node, XMLHttpRequest in browsers, where
// fetch cannot report upload progress over HTTP/1.1). No DOM or Node types needed to compile.
import type { AgentDto, ErrorBody, FileStatus, MemberDto, MessageDto, RoomDto, RoomMode, SessionDto, UserDto } from '../contract/dto';
import type { RoomSettings } from '../contract/room-settings';

/** An error answered by the server (`code` from docs/api.md), or a transport failure (`NETWORK`). */
export class PantheonError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'PantheonError';
  }
}

export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

export interface FileSummary {
  id: string;
  filename: string;
  kind: string;
  sizeBytes: number;
  status: FileStatus;
  createdAt: string;
}

export interface UsageRow {
  purpose: string;
  modelAlias: string;
  calls: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

export interface RoomUsage {
  items: UsageRow[];
  totals: { calls: number; inputTokens: number; outputTokens: number; costUsd: number };
}

export interface NewAgent {
  key: string;
  name: string;
  rolePrompt?: string;
  modelAlias?: string;
  toolPermissions?: string[];
  position?: number;
}

/** Where an upload stands: bytes sent of the body's total (the body is a little larger than the file). */
export interface UploadProgress {
  loaded: number;
  total: number;
  percent: number;
}

/** What can be uploaded: a Blob/File (browsers, Node 20+) or raw bytes with a file name. */
export type UploadSource = { name?: string; size: number; type?: string; stream(): ReadableStream<Uint8Array> } | Uint8Array;

export interface UploadOptions {
  /** Required for raw bytes; defaults to the File's name. */
  filename?: string;
  onProgress?: (p: UploadProgress) => void;
  signal?: AbortSignal;
}

type FetchLike = (url: string, init: Record<string, unknown>) => Promise<{ status: number; ok: boolean; text(): Promise<string> }>;

/** The minimal XMLHttpRequest surface the upload uses (present in browsers only). */
interface XhrLike {
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  send(body: unknown): void;
  abort(): void;
  status: number;
  responseText: string;
  onload: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
  upload: { onprogress: ((e: { loaded: number; total: number; lengthComputable: boolean }) => void) | null };
}

const g = globalThis as unknown as {
  fetch: FetchLike;
  XMLHttpRequest?: new () => XhrLike;
  FormData?: new () => { append(name: string, value: unknown, filename?: string): void };
  Blob?: new (parts: unknown[], opts?: { type?: string }) => UploadSource;
};

export interface RestOptions {
  baseUrl: string;
  /** The current token; `refresh` is asked once when the server answers TOKEN_EXPIRED. */
  token: () => Promise<string>;
  refresh?: () => Promise<string>;
}

/** Typed REST calls; every failure is a PantheonError with the server's code. */
export class PantheonRest {
  constructor(private readonly o: RestOptions) {}

  /** Any call under /api/v1: JSON in, JSON out. */
  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const attempt = async (token: string) => {
      let res;
      try {
        res = await g.fetch(`${this.o.baseUrl}/api/v1${path}`, {
          method,
          headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
      } catch (err) {
        throw new PantheonError('NETWORK', `The server could not be reached: ${(err as Error).message}`);
      }
      return { status: res.status, text: await res.text() };
    };
    let r = await attempt(await this.o.token());
    if (r.status === 401 && this.o.refresh && errorOf(r.status, r.text).code === 'TOKEN_EXPIRED') r = await attempt(await this.o.refresh());
    if (r.status >= 400) throw errorOf(r.status, r.text);
    return (r.text ? JSON.parse(r.text) : undefined) as T;
  }

  me = () => this.call<{ user: UserDto }>('GET', '/auth/me').then((r) => r.user);
  listRooms = () => this.call<Page<RoomDto>>('GET', '/rooms?limit=100');
  createRoom = (b: { name: string; mode?: RoomMode; settings?: RoomSettings }) => this.call<RoomDto>('POST', '/rooms', b);
  getRoom = (roomId: string) => this.call<RoomDto>('GET', `/rooms/${enc(roomId)}`);
  updateRoom = (roomId: string, b: { name?: string; mode?: RoomMode; settings?: Record<string, unknown> }) =>
    this.call<RoomDto>('PATCH', `/rooms/${enc(roomId)}`, b);
  listMembers = (roomId: string) => this.call<{ items: MemberDto[] }>('GET', `/rooms/${enc(roomId)}/members`).then((r) => r.items);
  addMember = (roomId: string, b: { sub: string; displayName?: string; role?: 'owner' | 'member' } | { userId: string; role?: 'owner' | 'member' }) =>
    this.call<MemberDto>('POST', `/rooms/${enc(roomId)}/members`, b);
  removeMember = (roomId: string, userId: string) => this.call<void>('DELETE', `/rooms/${enc(roomId)}/members/${enc(userId)}`);
  listAgents = (roomId: string) => this.call<AgentDto[] | { items: AgentDto[] }>('GET', `/rooms/${enc(roomId)}/agents`).then(itemsOf);
  addAgent = (roomId: string, b: NewAgent) => this.call<AgentDto>('POST', `/rooms/${enc(roomId)}/agents`, b);
  updateAgent = (roomId: string, key: string, b: Partial<Omit<NewAgent, 'key'>>) => this.call<AgentDto>('PATCH', `/rooms/${enc(roomId)}/agents/${enc(key)}`, b);
  removeAgent = (roomId: string, key: string) => this.call<void>('DELETE', `/rooms/${enc(roomId)}/agents/${enc(key)}`);
  createSession = (roomId: string, title?: string) => this.call<SessionDto>('POST', `/rooms/${enc(roomId)}/sessions`, title ? { title } : {});
  listSessions = (roomId: string) => this.call<Page<SessionDto>>('GET', `/rooms/${enc(roomId)}/sessions?limit=100`);
  listMessages = (sessionId: string, before?: string) =>
    this.call<Page<MessageDto>>('GET', `/sessions/${enc(sessionId)}/messages?limit=100${before ? `&before=${enc(before)}` : ''}`);
  turnAudit = (sessionId: string, turnId: string) => this.call<Record<string, unknown>>('GET', `/sessions/${enc(sessionId)}/turns/${enc(turnId)}`);
  roomUsage = (roomId: string) => this.call<RoomUsage>('GET', `/rooms/${enc(roomId)}/usage`);
  listFiles = (roomId: string) => this.call<Page<FileSummary>>('GET', `/rooms/${enc(roomId)}/files?limit=100`);
  getFile = (fileId: string) => this.call<Record<string, unknown> & { id: string; status: FileStatus }>('GET', `/files/${enc(fileId)}`);

  /**
   * Uploads a file to a room (multipart field `file`), reporting the bytes sent. Resolves with the
   * stored file's id and status (`queued`); parsing then goes on in the room (`file:progress`,
   * `file:ready`, `file:failed`).
   */
  async upload(roomId: string, source: UploadSource, opts: UploadOptions = {}): Promise<{ id: string; status: FileStatus }> {
    const filename = opts.filename ?? (source instanceof Uint8Array ? undefined : source.name);
    if (!filename) throw new PantheonError('VALIDATION_FAILED', 'A file name is required');
    const url = `${this.o.baseUrl}/api/v1/rooms/${enc(roomId)}/files`;
    const send = async (token: string) =>
      g.XMLHttpRequest ? this.uploadXhr(url, token, source, filename, opts) : this.uploadFetch(url, token, source, filename, opts);
    let r = await send(await this.o.token());
    if (r.status === 401 && this.o.refresh && errorOf(r.status, r.text).code === 'TOKEN_EXPIRED') r = await send(await this.o.refresh());
    if (r.status >= 400) throw errorOf(r.status, r.text);
    return JSON.parse(r.text) as { id: string; status: FileStatus };
  }

  private uploadXhr(url: string, token: string, source: UploadSource, filename: string, opts: UploadOptions) {
    return new Promise<{ status: number; text: string }>((resolve, reject) => {
      const xhr = new g.XMLHttpRequest!();
      xhr.open('POST', url);
      xhr.setRequestHeader('authorization', `Bearer ${token}`);
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable) opts.onProgress?.({ loaded: e.loaded, total: e.total, percent: pct(e.loaded, e.total) });
      };
      xhr.onload = () => resolve({ status: xhr.status, text: xhr.responseText });
      xhr.onerror = () => reject(new PantheonError('NETWORK', 'The upload could not reach the server'));
      xhr.onabort = () => reject(new PantheonError('ABORTED', 'The upload was cancelled'));
      opts.signal?.addEventListener('abort', () => xhr.abort());
      const form = new g.FormData!();
      form.append('file', source instanceof Uint8Array ? new g.Blob!([source]) : source, filename);
      xhr.send(form);
    });
  }

  /** A multipart body built as a stream, so the bytes the server has pulled are the progress. */
  private async uploadFetch(url: string, token: string, source: UploadSource, filename: string, opts: UploadOptions) {
    const boundary = `----pantheon${Math.random().toString(16).slice(2)}${Date.now().toString(16)}`;
    const encoder = new TextEncoder();
    const safeName = filename.replace(/["\r\n\\]/g, '_');
    const head = encoder.encode(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${safeName}"; filename*=UTF-8''${encodeURIComponent(filename)}\r\n` +
        `Content-Type: ${(!(source instanceof Uint8Array) && source.type) || 'application/octet-stream'}\r\n\r\n`,
    );
    const tail = encoder.encode(`\r\n--${boundary}--\r\n`);
    const size = source instanceof Uint8Array ? source.byteLength : source.size;
    const total = head.byteLength + size + tail.byteLength;
    let loaded = 0;
    const parts: (() => AsyncIterable<Uint8Array> | Iterable<Uint8Array>)[] = [
      () => [head],
      () => (source instanceof Uint8Array ? chunked(source) : iterate(source.stream())),
      () => [tail],
    ];
    async function* all() {
      for (const p of parts) for await (const c of p()) yield c;
    }
    const it = all();
    const body = new ReadableStream<Uint8Array>({
      async pull(ctl) {
        const next = await it.next();
        if (next.done) {
          ctl.close();
          return;
        }
        ctl.enqueue(next.value);
        loaded += next.value.byteLength;
        opts.onProgress?.({ loaded, total, percent: pct(loaded, total) });
      },
    });
    let res;
    try {
      res = await g.fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(total) },
        body,
        duplex: 'half',
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    } catch (err) {
      throw new PantheonError('NETWORK', `The upload could not reach the server: ${(err as Error).message}`);
    }
    return { status: res.status, text: await res.text() };
  }
}

const enc = encodeURIComponent;
const pct = (loaded: number, total: number) => (total > 0 ? Math.min(100, Math.round((loaded / total) * 100)) : 100);
const itemsOf = <T>(r: T[] | { items: T[] }): T[] => (Array.isArray(r) ? r : r.items);

function* chunked(bytes: Uint8Array, size = 64 * 1024) {
  for (let i = 0; i < bytes.byteLength; i += size) yield bytes.subarray(i, i + size);
}

async function* iterate(stream: ReadableStream<Uint8Array>) {
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    yield value;
  }
}

function errorOf(status: number, text: string): PantheonError {
  try {
    const body = JSON.parse(text) as { error?: ErrorBody };
    if (body.error) return new PantheonError(body.error.code, body.error.message, status, body.error.details);
  } catch {
    /* not JSON */
  }
  return new PantheonError(status === 404 ? 'NOT_FOUND' : 'HTTP_ERROR', `The server answered ${status}`, status);
}
