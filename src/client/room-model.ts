// What an app shows of one room, assembled from the client's ordered room events and the snapshots
// its joins bring: sessions and their messages, each agent's reply as it streams (one per turn and
// agent), tool calls, plans, queue positions, summaries, files, who is online and typing. A snapshot
// replaces the state; a turn in flight continues from its partial text with only the frames after
// its own position, so a reconnect neither loses nor doubles text.
import type { AgentDto, MessageDto, RoomMode, SessionDto, TurnStatus } from '../contract/dto';
import type { RoomEvent, RoomEventPayloads, RoomSnapshot, TypingEvent, Usage } from '../contract/events';

/** What the model listens to: a client's ordered room events and its snapshots (PantheonClient). */
export interface RoomEventSource {
  on(event: string, handler: (e: never) => void): () => void;
  onSnapshot(handler: (s: RoomSnapshot) => void): () => void;
}

export interface ToolCallView {
  toolCallId: string;
  toolName: string;
  input: Record<string, unknown>;
  status: 'running' | 'succeeded' | 'failed';
  progress?: { message: string; percent?: number };
  latencyMs?: number;
  error?: string;
}

/** One agent's reply in one turn: streaming until its `agent:end` (or the turn's end). */
export interface AgentReply {
  kind: 'reply';
  key: string;
  turnId: string;
  sessionId: string;
  agentKey: string;
  agentName: string;
  modelAlias: string | null;
  text: string;
  status: 'streaming' | 'complete' | 'partial' | 'failed' | 'cancelled';
  messageId: string | null;
  tools: ToolCallView[];
  usage?: Usage;
  error?: { code: string; message: string };
}

export interface UserMessage {
  kind: 'message';
  key: string;
  message: MessageDto;
}

export type TimelineItem = UserMessage | AgentReply;

export interface TurnView {
  turnId: string;
  sessionId: string;
  messageId?: string;
  status: TurnStatus;
  /** Turns ahead of it in the session (the running one included) when it was queued. */
  position?: number;
  mode?: RoomMode;
  plan?: { agentKeys: string[]; fallback: boolean; reason?: string };
  usage?: Usage;
  error?: { code: string; message: string };
}

export interface SummaryView {
  running: boolean;
  text: string | null;
  fields?: { topics: string[]; decisions: string[]; openQuestions: string[] };
  usedFallback?: boolean;
}

export interface FileView {
  fileId: string;
  filename?: string;
  kind?: string;
  /** Upload progress (bytes sent), then the server's parse stages. */
  state: 'uploading' | 'queued' | 'reading' | 'parsing' | 'storing' | 'ready' | 'failed';
  percent: number;
  error?: { code: string; message: string };
}

export interface OnlineUser {
  userId: string;
  displayName: string;
  kind: 'human' | 'bot';
}

const ENDED: readonly TurnStatus[] = ['completed', 'partial', 'failed', 'cancelled', 'interrupted'];
const TYPING_TTL_MS = 6000;

export class RoomModel {
  name = '';
  mode: RoomMode = 'manual';
  agents: AgentDto[] = [];
  sessions: SessionDto[] = [];
  readonly online = new Map<string, OnlineUser>();
  /** userId -> session and when the typing indicator lapses. */
  readonly typing = new Map<string, { sessionId: string; until: number }>();
  readonly turns = new Map<string, TurnView>();
  readonly summaries = new Map<string, SummaryView>();
  readonly files = new Map<string, FileView>();
  /** Tokens and cost of the turns that ended while this model watched (REST /usage has the room's totals). */
  usage: Usage = { inputTokens: 0, outputTokens: 0, costUsd: 0 };
  private readonly timelines = new Map<string, TimelineItem[]>();
  private readonly items = new Map<string, TimelineItem>();
  /** Turns taken from a snapshot: their frames up to this position are in the partial text already. */
  private readonly from = new Map<string, { epoch: string; seq: number }>();
  private readonly listeners = new Set<() => void>();
  private readonly unsubscribe: (() => void)[] = [];
  private notifyQueued = false;

  constructor(
    client: RoomEventSource,
    readonly roomId: string,
  ) {
    const on = (event: string, h: (e: never) => void) => void this.unsubscribe.push(client.on(event, h));
    const mine = <T extends { roomId: string }>(fn: (e: T) => void) => (e: T) => {
      if (e.roomId !== roomId) return;
      fn(e);
      this.changed();
    };
    this.unsubscribe.push(client.onSnapshot((s) => s.roomId === roomId && (this.applySnapshot(s), this.changed())));
    const presence = (e: RoomEventPayloads['presence']) =>
      e.state === 'joined' ? this.online.set(e.userId, { userId: e.userId, displayName: e.displayName, kind: e.kind }) : this.online.delete(e.userId);
    on('presence', mine<RoomEvent<'presence'>>(presence));
    // Several users' presence in one event: each change applies as a `presence` event would.
    on('presence:batch', mine<RoomEvent<'presence:batch'>>((e) => e.changes.forEach(presence)));
    on('typing', mine<TypingEvent>((e) => (e.on ? this.typing.set(e.userId, { sessionId: e.sessionId, until: Date.now() + TYPING_TTL_MS }) : this.typing.delete(e.userId))));
    // A new session takes the place of one guessed from its first message.
    on('session:created', mine<RoomEvent<'session:created'>>((e) => {
      this.sessions = [...this.sessions.filter((s) => s.id !== e.session.id), e.session].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    }));
    on('message:created', mine<RoomEvent<'message:created'>>((e) => this.addMessage(e.message)));
    on('turn:queued', mine<RoomEvent<'turn:queued'>>((e) => this.turn(e.turnId, e.sessionId, { status: 'queued', position: e.position, messageId: e.messageId })));
    on('turn:started', mine<RoomEvent<'turn:started'>>((e) => this.turn(e.turnId, e.sessionId, { status: 'running', mode: e.mode, position: undefined })));
    on('turn:plan', mine<RoomEvent<'turn:plan'>>((e) => {
      const t = this.turns.get(e.turnId);
      if (t) t.plan = { agentKeys: e.agentKeys, fallback: e.fallback, ...(e.reason ? { reason: e.reason } : {}) };
    }));
    on('agent:start', mine<RoomEvent<'agent:start'>>((e) => {
      const r = this.reply(e.turnId, e.agentKey);
      if (r) r.modelAlias = e.modelAlias;
    }));
    on('agent:delta', mine<RoomEvent<'agent:delta'>>((e) => {
      const from = this.from.get(e.turnId);
      if (from && from.epoch === e.epoch && e.seq <= from.seq) return;
      const r = this.reply(e.turnId, e.agentKey);
      if (r && r.status === 'streaming') r.text += e.text;
    }));
    on('tool:start', mine<RoomEvent<'tool:start'>>((e) => {
      const r = this.reply(e.turnId, e.agentKey);
      if (r && !r.tools.some((t) => t.toolCallId === e.toolCallId)) r.tools.push({ toolCallId: e.toolCallId, toolName: e.toolName, input: e.input, status: 'running' });
    }));
    on('tool:progress', mine<RoomEvent<'tool:progress'>>((e) => {
      const t = this.reply(e.turnId, e.agentKey)?.tools.find((x) => x.toolCallId === e.toolCallId);
      if (t) t.progress = { message: e.message, ...(e.percent !== undefined ? { percent: e.percent } : {}) };
    }));
    on('tool:end', mine<RoomEvent<'tool:end'>>((e) => {
      const r = this.reply(e.turnId, e.agentKey);
      if (!r) return;
      let t = r.tools.find((x) => x.toolCallId === e.toolCallId);
      if (!t) r.tools.push((t = { toolCallId: e.toolCallId, toolName: e.toolName, input: {}, status: 'running' }));
      t.status = e.status;
      t.latencyMs = e.latencyMs;
      if (e.error) t.error = e.error;
    }));
    on('agent:end', mine<RoomEvent<'agent:end'>>((e) => {
      const r = this.reply(e.turnId, e.agentKey);
      if (!r) return;
      r.status = e.status;
      r.messageId = e.messageId;
      r.usage = e.usage;
      if (e.error) r.error = e.error;
    }));
    on('summary:started', mine<RoomEvent<'summary:started'>>((e) => {
      const s = this.summaries.get(e.sessionId) ?? { running: false, text: this.sessions.find((x) => x.id === e.sessionId)?.summary ?? null };
      this.summaries.set(e.sessionId, { ...s, running: true });
    }));
    on('summary:updated', mine<RoomEvent<'summary:updated'>>((e) => {
      this.summaries.set(e.sessionId, { running: false, text: e.summary, usedFallback: e.usedFallback, ...(e.fields ? { fields: e.fields } : {}) });
    }));
    on('turn:end', mine<RoomEvent<'turn:end'>>((e) => {
      const t = this.turn(e.turnId, e.sessionId, { status: e.status, usage: e.usage, position: undefined });
      if (e.error) t.error = e.error;
      this.usage = {
        inputTokens: this.usage.inputTokens + e.usage.inputTokens,
        outputTokens: this.usage.outputTokens + e.usage.outputTokens,
        costUsd: this.usage.costUsd + e.usage.costUsd,
      };
      // Replies still open end with the turn: its status says how.
      for (const item of this.timelines.get(e.sessionId) ?? []) {
        if (item.kind === 'reply' && item.turnId === e.turnId && item.status === 'streaming') item.status = e.status === 'cancelled' ? 'cancelled' : 'partial';
      }
      const s = this.summaries.get(e.sessionId);
      if (s?.running) s.running = false;
    }));
    on('file:progress', mine<RoomEvent<'file:progress'>>((e) => {
      const f = this.files.get(e.fileId) ?? { fileId: e.fileId, state: e.stage, percent: 0 };
      if (f.state !== 'ready' && f.state !== 'failed') this.files.set(e.fileId, { ...f, state: e.stage, percent: e.percent });
    }));
    on('file:ready', mine<RoomEvent<'file:ready'>>((e) => this.files.set(e.fileId, { fileId: e.fileId, filename: e.filename, kind: e.kind, state: 'ready', percent: 100 })));
    on('file:failed', mine<RoomEvent<'file:failed'>>((e) =>
      this.files.set(e.fileId, { fileId: e.fileId, filename: e.filename, state: 'failed', percent: 100, error: { code: e.code, message: e.message } }),
    ));
    on('room:updated', mine<RoomEvent<'room:updated'>>((e) => {
      if (e.agents) this.agents = e.agents;
      if (e.mode) this.mode = e.mode;
      if (e.name) this.name = e.name;
    }));
  }

  /** Called (once per burst of events) whenever the model changed. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The session's messages and replies in the order they appeared. */
  timeline(sessionId: string): readonly TimelineItem[] {
    return this.timelines.get(sessionId) ?? [];
  }

  /** Replies of one turn, in the order the agents started. */
  repliesOf(turnId: string): AgentReply[] {
    return [...this.items.values()].filter((i): i is AgentReply => i.kind === 'reply' && i.turnId === turnId);
  }

  /** The turn of a session that is running, if any, and the ones waiting. */
  runningTurn(sessionId: string): TurnView | undefined {
    return [...this.turns.values()].find((t) => t.sessionId === sessionId && t.status === 'running');
  }

  queuedTurns(sessionId: string): TurnView[] {
    return [...this.turns.values()].filter((t) => t.sessionId === sessionId && t.status === 'queued');
  }

  /** Users typing in a session now (the indicator lapses if their `off` was lost). */
  typingIn(sessionId: string): OnlineUser[] {
    const now = Date.now();
    const out: OnlineUser[] = [];
    for (const [userId, t] of this.typing) {
      if (t.until < now) this.typing.delete(userId);
      else if (t.sessionId === sessionId) out.push(this.online.get(userId) ?? { userId, displayName: 'someone', kind: 'human' });
    }
    return out;
  }

  /** An upload this app started, shown before the server knows the file. */
  trackUpload(fileId: string, f: Omit<FileView, 'fileId'>): void {
    const known = this.files.get(fileId);
    // The room's own events may have overtaken the upload's answer.
    if (known && known.state !== 'uploading') return;
    this.files.set(fileId, { fileId, ...f });
    this.changed();
  }

  close(): void {
    for (const u of this.unsubscribe.splice(0)) u();
    this.listeners.clear();
  }

  private changed() {
    if (this.notifyQueued) return;
    this.notifyQueued = true;
    queueMicrotask(() => {
      this.notifyQueued = false;
      for (const l of this.listeners) l();
    });
  }

  private turn(turnId: string, sessionId: string, patch: Partial<TurnView>): TurnView {
    let t = this.turns.get(turnId);
    if (!t) this.turns.set(turnId, (t = { turnId, sessionId, status: 'queued' }));
    // A turn that ended stays ended (a late `turn:queued` replayed before a snapshot, say).
    if (patch.status && ENDED.includes(t.status) && !ENDED.includes(patch.status)) delete patch.status;
    Object.assign(t, patch);
    if ('position' in patch && patch.position === undefined) delete t.position;
    return t;
  }

  private timelineOf(sessionId: string): TimelineItem[] {
    let list = this.timelines.get(sessionId);
    if (!list) this.timelines.set(sessionId, (list = []));
    return list;
  }

  private addMessage(m: MessageDto) {
    if (m.authorType === 'agent' && m.turnId && m.agentKey) {
      const key = `${m.turnId}/${m.agentKey}`;
      const r = this.items.get(key) as AgentReply | undefined;
      const status: AgentReply['status'] = m.status;
      if (r) Object.assign(r, { text: m.content, status, messageId: m.id, modelAlias: m.modelAlias ?? r.modelAlias });
      else this.push(m.sessionId, { kind: 'reply', key, turnId: m.turnId, sessionId: m.sessionId, agentKey: m.agentKey, agentName: this.agentName(m.agentKey), modelAlias: m.modelAlias, text: m.content, status, messageId: m.id, tools: [] });
      return;
    }
    if (this.items.has(m.id)) return;
    if (!this.sessions.some((s) => s.id === m.sessionId)) this.sessions.push({ id: m.sessionId, roomId: this.roomId, title: 'Session', summary: null, summaryFallback: [], createdAt: m.createdAt });
    this.push(m.sessionId, { kind: 'message', key: m.id, message: m });
  }

  private push(sessionId: string, item: TimelineItem) {
    this.items.set(item.key, item);
    this.timelineOf(sessionId).push(item);
  }

  private agentName(agentKey: string) {
    return this.agents.find((a) => a.key === agentKey)?.name ?? agentKey;
  }

  /** The reply of an agent in a turn, made when its first event arrives. */
  private reply(turnId: string, agentKey: string): AgentReply | undefined {
    const key = `${turnId}/${agentKey}`;
    const known = this.items.get(key);
    if (known) return known as AgentReply;
    const turn = this.turns.get(turnId);
    if (!turn) return undefined;
    const r: AgentReply = {
      kind: 'reply',
      key,
      turnId,
      sessionId: turn.sessionId,
      agentKey,
      agentName: this.agentName(agentKey),
      modelAlias: this.agents.find((a) => a.key === agentKey)?.modelAlias ?? null,
      text: '',
      status: 'streaming',
      messageId: null,
      tools: [],
    };
    this.push(turn.sessionId, r);
    return r;
  }

  private applySnapshot(s: RoomSnapshot) {
    this.name = s.name;
    this.mode = s.mode;
    this.agents = s.agents;
    this.sessions = [...s.sessions].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    this.online.clear();
    for (const m of s.membersOnline) this.online.set(m.userId, { userId: m.userId, displayName: m.displayName, kind: m.kind });
    this.timelines.clear();
    this.items.clear();
    this.from.clear();
    const keep = new Map([...this.turns].filter(([, t]) => ENDED.includes(t.status)));
    this.turns.clear();
    for (const [id, t] of keep) this.turns.set(id, t);
    for (const t of s.recentTurns) this.turn(t.turnId, t.sessionId, { status: t.status });
    for (const session of s.sessions) {
      const prior = this.summaries.get(session.id);
      this.summaries.set(session.id, { ...prior, running: false, text: session.summary ?? prior?.text ?? null, ...(session.summaryData ? { fields: session.summaryData } : {}) });
    }
    for (const m of [...s.recentMessages].sort((a, b) => a.createdAt.localeCompare(b.createdAt))) this.addMessage(m);
    for (const t of s.turnsInFlight) {
      // A turn waiting for a tool approval is still running (the approval request is its own event).
      this.turn(t.turnId, t.sessionId, { status: t.status === 'awaiting_approval' ? 'running' : t.status });
      this.from.set(t.turnId, { epoch: t.epoch, seq: t.seq });
      for (const [agentKey, text] of Object.entries(t.partialText)) {
        const r = this.reply(t.turnId, agentKey);
        if (r && r.status === 'streaming') r.text = text;
      }
    }
  }
}
