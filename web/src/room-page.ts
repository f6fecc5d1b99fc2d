// The live room: sessions and their timeline (each agent's reply streaming in its own bubble with
// its name and model alias, tool calls, the plan, queue positions, a stop button), the composer
// with uploads, and the side panels: online and typing, agents, members, files, summary, usage.
import type { AgentReply, FileSummary, MemberDto, PantheonClient, RoomModel, TimelineItem, ToolCallView, TurnView } from 'pantheon/client';
import { append, clear, fmtCost, fmtTokens, h, setData, setText, syncList } from './dom';

interface Nav {
  navigate(path: string): void;
  signOut(): void;
}

interface LocalUpload {
  key: string;
  filename: string;
  percent: number;
  fileId?: string;
  error?: string;
}

const TOOLS = ['web_search', 'read_file'] as const;

export class RoomPage {
  readonly root = h('div', { class: 'page room' });
  private model!: RoomModel;
  private sessionId: string | undefined;
  private members: MemberDto[] = [];
  private serverFiles: FileSummary[] = [];
  private uploads: LocalUpload[] = [];
  private attached = new Set<string>();
  private usageText = '';
  private frame = 0;
  private closed = false;
  private offState?: () => void;
  private ticker?: ReturnType<typeof setInterval>;
  private typingSent = 0;
  private typingTimer?: ReturnType<typeof setTimeout>;
  private readonly el = {
    title: h('h1', { class: 'room-title' }),
    mode: h('span', { class: 'badge', 'data-testid': 'room-mode' }),
    conn: h('span', { class: 'conn', role: 'status', 'aria-live': 'polite', 'data-testid': 'conn' }),
    banner: h('div', { class: 'banner', role: 'status', hidden: true }, 'Reconnecting… what was said meanwhile will follow.'),
    online: h('ul', { class: 'online', 'aria-label': 'Online' }),
    sessions: h('ul', { class: 'sessions', 'aria-label': 'Sessions' }),
    agents: h('ul', { class: 'agents', 'aria-label': 'Agents' }),
    members: h('ul', { class: 'members', 'aria-label': 'Members' }),
    files: h('ul', { class: 'files', 'aria-label': 'Files', 'data-testid': 'files' }),
    summary: h('div', { class: 'summary', 'data-testid': 'summary' }),
    usage: h('p', { class: 'usage', 'data-testid': 'usage' }),
    timeline: h('ol', { class: 'timeline', 'aria-label': 'Messages', 'aria-live': 'polite', 'aria-relevant': 'additions', 'data-testid': 'timeline' }),
    typing: h('p', { class: 'typing', 'aria-live': 'polite', 'data-testid': 'typing' }),
    chips: h('div', { class: 'chips' }),
    input: h('textarea', { id: 'composer', rows: 2, placeholder: 'Message (@agent asks one; Enter sends)', 'aria-label': 'Message', maxLength: 16000 }),
    error: h('p', { class: 'error', role: 'alert', 'data-testid': 'error' }),
  };

  constructor(
    private readonly client: PantheonClient,
    private readonly roomId: string,
    private readonly nav: Nav,
  ) {}

  async start() {
    this.model = this.client.model(this.roomId);
    this.model.subscribe(() => this.schedule());
    this.offState = this.client.onState(() => this.schedule());
    // Typing indicators lapse by time: look again while someone is typing.
    this.ticker = setInterval(() => this.model.typing.size && this.schedule(), 1500);
    this.layout();
    try {
      await this.client.join(this.roomId);
    } catch (err) {
      this.fail(err);
      return;
    }
    this.sessionId ??= this.model.sessions.at(-1)?.id;
    await Promise.all([this.loadMembers(), this.loadFiles(), this.loadUsage()]);
    this.schedule();
    this.el.input.focus();
  }

  close() {
    this.closed = true;
    cancelAnimationFrame(this.frame);
    clearInterval(this.ticker);
    this.offState?.();
    this.model?.close();
    void this.client.leave(this.roomId).catch(() => undefined);
  }

  private fail(err: unknown) {
    this.el.error.textContent = (err as Error).message;
  }

  private schedule() {
    if (this.closed || this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  // ---- layout (built once) ----

  private layout() {
    const composer = h(
      'form',
      {
        class: 'composer',
        onsubmit: (e: Event) => {
          e.preventDefault();
          void this.send();
        },
      },
      this.el.chips,
      h(
        'div',
        { class: 'composer-row' },
        h('label', { class: 'button attach', title: 'Upload a file' }, 'Attach', h('input', { type: 'file', class: 'visually-hidden', 'data-testid': 'file-input', onchange: (e: Event) => this.onFiles(e) })),
        this.el.input,
        h('button', { type: 'submit', class: 'primary', 'data-testid': 'send' }, 'Send'),
      ),
    );
    this.el.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        void this.send();
      }
    });
    this.el.input.addEventListener('input', () => this.typed());
    this.el.input.addEventListener('blur', () => this.stopTyping());

    const side = h(
      'aside',
      { class: 'side' },
      panel('Online', this.el.online, this.el.typing),
      panel('Sessions', this.el.sessions, this.newSessionForm()),
      panel('Summary', this.el.summary),
      panel('Agents', this.el.agents, this.addAgentForm()),
      panel('Members', this.el.members, this.addMemberForm()),
      panel('Files', this.el.files),
      panel('Usage', this.el.usage),
      panel('Room', this.roomForm()),
    );
    this.root.append(
      h(
        'header',
        { class: 'topbar' },
        h('a', { href: '/', class: 'back', onclick: (e: Event) => (e.preventDefault(), this.nav.navigate('/')) }, '← Rooms'),
        this.el.title,
        this.el.mode,
        h('span', { class: 'spacer' }),
        this.el.conn,
        h('button', { type: 'button', onclick: () => this.nav.signOut() }, 'Sign out'),
      ),
      this.el.banner,
      h('div', { class: 'room-body' }, h('main', { class: 'chat' }, this.el.timeline, this.el.error, composer), side),
    );
  }

  private newSessionForm() {
    const title = h('input', { 'aria-label': 'New session title', placeholder: 'New session', maxLength: 200 });
    return h(
      'form',
      {
        class: 'inline',
        onsubmit: async (e: Event) => {
          e.preventDefault();
          try {
            const s = await this.client.rest.createSession(this.roomId, title.value.trim() || undefined);
            if (!this.model.sessions.some((x) => x.id === s.id)) this.model.sessions.push(s);
            this.sessionId = s.id;
            title.value = '';
            this.schedule();
          } catch (err) {
            this.fail(err);
          }
        },
      },
      title,
      h('button', { type: 'submit' }, 'Add'),
    );
  }

  private addAgentForm() {
    const key = h('input', { id: 'agent-key', required: true, pattern: '[A-Za-z][A-Za-z0-9_-]*', maxLength: 64, placeholder: 'writer' });
    const name = h('input', { id: 'agent-name', required: true, maxLength: 100, placeholder: 'Writer' });
    const role = h('textarea', { id: 'agent-role', rows: 3, maxLength: 4000, placeholder: 'You draft clear, short texts.' });
    const alias = h('input', { id: 'agent-alias', list: 'alias-list', maxLength: 64, placeholder: 'default alias' });
    const tools = TOOLS.map((t) => h('input', { type: 'checkbox', id: `tool-${t}`, value: t }));
    return h(
      'details',
      { class: 'add' },
      h('summary', {}, 'Add an agent'),
      h(
        'form',
        {
          'data-testid': 'add-agent',
          onsubmit: async (e: Event) => {
            e.preventDefault();
            try {
              await this.client.rest.addAgent(this.roomId, {
                key: key.value.trim(),
                name: name.value.trim(),
                rolePrompt: role.value,
                ...(alias.value.trim() ? { modelAlias: alias.value.trim() } : {}),
                toolPermissions: tools.filter((t) => t.checked).map((t) => t.value),
              });
              for (const i of [key, name, role, alias]) i.value = '';
              this.el.error.textContent = '';
            } catch (err) {
              this.fail(err);
            }
          },
        },
        h('label', { for: 'agent-key' }, 'Key (for @mentions)'),
        key,
        h('label', { for: 'agent-name' }, 'Name'),
        name,
        h('label', { for: 'agent-role' }, 'Role prompt'),
        role,
        h('label', { for: 'agent-alias' }, 'Model alias'),
        alias,
        h('datalist', { id: 'alias-list' }),
        h('fieldset', {}, h('legend', {}, 'Tools'), ...TOOLS.flatMap((t, i) => [h('label', { class: 'check' }, tools[i]!, ` ${t}`)])),
        h('button', { type: 'submit', class: 'primary' }, 'Add agent'),
      ),
    );
  }

  private addMemberForm() {
    const sub = h('input', { id: 'member-sub', required: true, maxLength: 255, placeholder: 'dev:bob' });
    const name = h('input', { id: 'member-name', maxLength: 200, placeholder: 'Bob' });
    return h(
      'details',
      { class: 'add' },
      h('summary', {}, 'Add a member'),
      h(
        'form',
        {
          onsubmit: async (e: Event) => {
            e.preventDefault();
            try {
              await this.client.rest.addMember(this.roomId, { sub: sub.value.trim(), ...(name.value.trim() ? { displayName: name.value.trim() } : {}) });
              sub.value = name.value = '';
              await this.loadMembers();
            } catch (err) {
              this.fail(err);
            }
          },
        },
        h('label', { for: 'member-sub' }, 'User id (sub; a name signed in as "Bob" is dev:bob)'),
        sub,
        h('label', { for: 'member-name' }, 'Display name'),
        name,
        h('button', { type: 'submit', class: 'primary' }, 'Add member'),
      ),
    );
  }

  private roomForm() {
    const mode = h('select', { id: 'room-mode-select', 'aria-label': 'Room mode' }, ...['manual', 'roundtable', 'orchestrator'].map((m) => h('option', { value: m }, m)));
    mode.addEventListener('focus', () => (mode.value = this.model.mode));
    return h(
      'form',
      {
        class: 'inline',
        onsubmit: async (e: Event) => {
          e.preventDefault();
          try {
            await this.client.rest.updateRoom(this.roomId, { mode: mode.value as 'manual' });
          } catch (err) {
            this.fail(err);
          }
        },
      },
      mode,
      h('button', { type: 'submit' }, 'Set mode'),
    );
  }

  // ---- actions ----

  private async send() {
    const content = this.el.input.value.trim();
    if (!content || !this.sessionId) return;
    const fileIds = [...this.attached];
    this.el.input.value = '';
    this.attached.clear();
    this.stopTyping();
    this.el.error.textContent = '';
    this.schedule();
    try {
      await this.client.send({ roomId: this.roomId, sessionId: this.sessionId, content, ...(fileIds.length ? { fileIds } : {}) });
    } catch (err) {
      this.el.input.value = content; // nothing was lost: send again
      this.fail(err);
    }
  }

  private typed() {
    if (!this.sessionId) return;
    const now = Date.now();
    if (now - this.typingSent > 2500) {
      this.typingSent = now;
      this.client.typing(this.roomId, this.sessionId, true);
    }
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.stopTyping(), 4000);
  }

  private stopTyping() {
    clearTimeout(this.typingTimer);
    if (!this.typingSent || !this.sessionId) return;
    this.typingSent = 0;
    this.client.typing(this.roomId, this.sessionId, false);
  }

  private onFiles(e: Event) {
    const input = e.target as HTMLInputElement;
    for (const file of Array.from(input.files ?? [])) void this.upload(file);
    input.value = '';
  }

  private async upload(file: File) {
    const u: LocalUpload = { key: `up-${Math.random().toString(36).slice(2)}`, filename: file.name, percent: 0 };
    this.uploads.push(u);
    this.schedule();
    try {
      const res = await this.client.upload(this.roomId, file, {
        onProgress: (p) => {
          u.percent = p.percent;
          this.schedule();
        },
      });
      u.fileId = res.id;
      u.percent = 100;
      this.model.trackUpload(res.id, { filename: file.name, state: 'queued', percent: 0 });
      this.attached.add(res.id);
    } catch (err) {
      u.error = (err as Error).message;
    }
    this.schedule();
  }

  private async loadMembers() {
    try {
      this.members = await this.client.rest.listMembers(this.roomId);
      this.schedule();
    } catch {
      /* shown as not loaded */
    }
  }

  private async loadFiles() {
    try {
      this.serverFiles = (await this.client.rest.listFiles(this.roomId)).items;
    } catch {
      /* shown as not loaded */
    }
  }

  private usageTimer?: ReturnType<typeof setTimeout>;
  private seenEnds = 0;
  private async loadUsage() {
    try {
      const u = await this.client.rest.roomUsage(this.roomId);
      this.usageText = `${u.totals.calls} model calls · ${fmtTokens(u.totals.inputTokens)} in / ${fmtTokens(u.totals.outputTokens)} out · ${fmtCost(u.totals.costUsd)}`;
      this.schedule();
    } catch {
      /* kept as it was */
    }
  }

  // ---- render (every frame with changes) ----

  private render() {
    const m = this.model;
    setText(this.el.title, m.name || 'Room');
    document.title = `${m.name || 'Room'} · Pantheon`;
    setText(this.el.mode, m.mode);
    const state = this.client.state;
    setText(this.el.conn, state === 'connected' ? 'Connected' : state === 'reconnecting' ? 'Reconnecting…' : state === 'connecting' ? 'Connecting…' : 'Offline');
    setData(this.el.conn, 'state', state);
    this.el.banner.hidden = state !== 'reconnecting';
    this.root.classList.toggle('is-reconnecting', state === 'reconnecting');

    if (!this.sessionId || !m.sessions.some((s) => s.id === this.sessionId)) this.sessionId = m.sessions.at(-1)?.id;
    this.renderSessions();
    this.renderTimeline();
    this.renderOnline();
    this.renderAgents();
    this.renderMembers();
    this.renderFiles();
    this.renderSummary();

    // Room usage: the server's totals, asked again shortly after turns end.
    const ends = [...m.turns.values()].filter((t) => t.usage).length;
    if (ends !== this.seenEnds) {
      this.seenEnds = ends;
      clearTimeout(this.usageTimer);
      this.usageTimer = setTimeout(() => void this.loadUsage(), 300);
    }
    setText(this.el.usage, this.usageText || `${fmtTokens(m.usage.inputTokens)} in / ${fmtTokens(m.usage.outputTokens)} out · ${fmtCost(m.usage.costUsd)}`);
  }

  private renderSessions() {
    syncList(
      this.el.sessions,
      this.model.sessions,
      (s) => s.id,
      (s) => h('li', {}, h('button', { type: 'button', class: 'link', onclick: () => ((this.sessionId = s.id), this.schedule()) })),
      (el, s) => {
        const b = el.firstElementChild as HTMLButtonElement;
        setText(b, s.title);
        b.setAttribute('aria-current', String(s.id === this.sessionId));
      },
    );
  }

  private renderTimeline() {
    const tl = this.el.timeline;
    const nearBottom = tl.scrollHeight - tl.scrollTop - tl.clientHeight < 80;
    const items = this.sessionId ? this.model.timeline(this.sessionId) : [];
    syncList(tl, items, (i) => i.key, (i) => this.makeItem(i), (el, i) => this.updateItem(el, i));
    if (!items.length && !tl.querySelector('.empty')) tl.append(h('li', { class: 'empty muted', 'data-key': 'empty' }, 'No messages yet. Mention an agent with @key to ask it.'));
    if (nearBottom) tl.scrollTop = tl.scrollHeight;
    const typing = this.sessionId ? this.model.typingIn(this.sessionId) : [];
    setText(this.el.typing, typing.length ? `${typing.map((u) => u.displayName).join(', ')} ${typing.length === 1 ? 'is' : 'are'} typing…` : '');
  }

  private makeItem(i: TimelineItem): HTMLElement {
    if (i.kind === 'message') {
      return h(
        'li',
        { class: `msg ${i.message.authorType}`, 'data-testid': 'message' },
        h('div', { class: 'meta' }, h('strong', { class: 'who' })),
        h('div', { class: 'text' }),
        h('div', { class: 'turn', 'data-testid': 'turn' }),
      );
    }
    return h(
      'li',
      { class: 'bubble reply', 'data-testid': 'reply', 'data-agent': i.agentKey, 'data-turn': i.turnId },
      h('div', { class: 'meta' }, h('strong', { class: 'who' }), h('span', { class: 'badge alias' }), h('span', { class: 'status' })),
      h('ul', { class: 'tools' }),
      h('div', { class: 'text', 'data-testid': 'reply-text' }),
    );
  }

  private updateItem(el: HTMLElement, i: TimelineItem) {
    if (i.kind === 'message') {
      const m = i.message;
      const who = m.authorType === 'system' ? 'System' : (this.members.find((x) => x.userId === m.authorUserId)?.displayName ?? this.model.online.get(m.authorUserId ?? '')?.displayName ?? 'Someone');
      setText(el.querySelector('.who')!, who);
      setText(el.querySelector('.text')!, m.content);
      this.renderTurn(el.querySelector('.turn') as HTMLElement, m.turnId ? this.model.turns.get(m.turnId) : undefined);
      return;
    }
    this.renderReply(el, i);
  }

  private renderTurn(box: HTMLElement, t: TurnView | undefined) {
    if (!t) {
      box.hidden = true;
      return;
    }
    box.hidden = false;
    setData(box, 'turn', t.turnId);
    setData(box, 'status', t.status);
    const key = JSON.stringify([t.status, t.position, t.plan, t.usage, t.error]);
    if (box.dataset.render === key) return;
    box.dataset.render = key;
    clear(box);
    const label =
      t.status === 'queued'
        ? `Queued${t.position === undefined ? '' : t.position === 0 ? ' · next' : ` · ${t.position} ahead`}`
        : t.status === 'running'
          ? 'Answering…'
          : `Turn ${t.status}`;
    box.append(h('span', { class: `pill ${t.status}`, 'data-testid': 'turn-status' }, label));
    if (t.plan) {
      const plan = t.plan.agentKeys.length ? t.plan.agentKeys.map((k) => this.model.agents.find((a) => a.key === k)?.name ?? k).join(' → ') : 'no agent';
      box.append(h('span', { class: 'plan', 'data-testid': 'plan' }, `Plan: ${plan}${t.plan.fallback ? ' (fallback)' : ''}${t.plan.reason ? ` — ${t.plan.reason}` : ''}`));
    }
    if (t.status === 'running' || t.status === 'queued') {
      box.append(
        h(
          'button',
          {
            type: 'button',
            class: 'stop',
            'data-testid': 'stop',
            'aria-label': t.status === 'running' ? 'Stop this turn' : 'Cancel this queued message',
            onclick: (e: Event) => {
              (e.currentTarget as HTMLButtonElement).disabled = true;
              void this.client.cancel(this.roomId, t.turnId).catch((err: unknown) => this.fail(err));
            },
          },
          t.status === 'running' ? 'Stop' : 'Cancel',
        ),
      );
    }
    if (t.usage) box.append(h('span', { class: 'muted' }, `${fmtTokens(t.usage.inputTokens + t.usage.outputTokens)} tokens · ${fmtCost(t.usage.costUsd)}`));
    if (t.error) box.append(h('span', { class: 'error' }, t.error.message));
  }

  private renderReply(el: HTMLElement, r: AgentReply) {
    setData(el, 'status', r.status);
    setText(el.querySelector('.who')!, r.agentName);
    const alias = el.querySelector('.alias') as HTMLElement;
    setText(alias, r.modelAlias ?? '');
    alias.hidden = !r.modelAlias;
    setText(el.querySelector('.status')!, r.status === 'streaming' ? 'writing…' : r.status === 'complete' ? '' : r.status);
    el.classList.toggle('streaming', r.status === 'streaming');
    const text = el.querySelector('.text') as HTMLElement;
    setText(text, r.text || (r.status === 'streaming' ? '…' : ''));
    if (r.error) setText(text, `${r.text}${r.text ? '\n' : ''}⚠ ${r.error.message}`);
    syncList(
      el.querySelector('.tools') as HTMLElement,
      r.tools,
      (t) => t.toolCallId,
      () => h('li', { class: 'tool', 'data-testid': 'tool' }),
      (li, t) => this.renderTool(li, t),
    );
  }

  private renderTool(li: HTMLElement, t: ToolCallView) {
    const key = JSON.stringify(t);
    if (li.dataset.render === key) return;
    li.dataset.render = key;
    setData(li, 'status', t.status);
    clear(li);
    append(
      li,
      h('span', { class: `pill ${t.status}` }, t.status === 'running' ? '⏳' : t.status === 'succeeded' ? '✓' : '✗'),
      h('code', {}, t.toolName),
      h('span', { class: 'muted' }, t.latencyMs !== undefined ? ` ${t.latencyMs} ms` : ''),
      h('details', {}, h('summary', {}, 'input'), h('pre', {}, JSON.stringify(t.input, null, 2))),
      t.progress ? h('span', { class: 'progress-text' }, `${t.progress.message}${t.progress.percent !== undefined ? ` (${t.progress.percent}%)` : ''}`) : null,
      t.error ? h('span', { class: 'error' }, t.error) : null,
    );
  }

  private renderOnline() {
    syncList(
      this.el.online,
      [...this.model.online.values()],
      (u) => u.userId,
      () => h('li', {}, h('span', { class: 'dot', 'aria-hidden': 'true' }), h('span', { class: 'name' })),
      (el, u) => setText(el.querySelector('.name')!, `${u.displayName}${u.kind === 'bot' ? ' (bot)' : ''}`),
    );
  }

  private renderAgents() {
    syncList(
      this.el.agents,
      this.model.agents,
      (a) => a.key,
      () => h('li', { class: 'agent' }, h('strong', {}), h('span', { class: 'badge' }), h('div', { class: 'muted small' })),
      (el, a) => {
        setText(el.querySelector('strong')!, `${a.name} @${a.key}`);
        setText(el.querySelector('.badge')!, a.modelAlias);
        setText(el.querySelector('.small')!, [a.rolePrompt.slice(0, 120), a.toolPermissions.length ? `tools: ${a.toolPermissions.join(', ')}` : ''].filter(Boolean).join(' · '));
      },
    );
    const aliases = this.root.querySelector('#alias-list');
    if (aliases && !aliases.childElementCount) for (const a of new Set(['demo', ...this.model.agents.map((x) => x.modelAlias)])) aliases.append(h('option', { value: a }));
  }

  private renderMembers() {
    syncList(
      this.el.members,
      this.members,
      (m) => m.userId,
      () => h('li', {}, h('span', { class: 'dot', 'aria-hidden': 'true' }), h('span', { class: 'name' }), h('span', { class: 'muted' })),
      (el, m) => {
        const on = this.model.online.has(m.userId);
        el.classList.toggle('is-online', on);
        setText(el.querySelector('.name')!, `${m.displayName}${m.kind === 'bot' ? ' (bot)' : ''} `);
        setText(el.querySelector('.muted')!, `${m.role}${on ? ' · online' : ''}`);
      },
    );
  }

  private renderFiles() {
    type Row = { key: string; filename: string; state: string; percent: number; error?: string };
    const rows: Row[] = [];
    const seen = new Set<string>();
    for (const u of this.uploads) {
      const f = u.fileId ? this.model.files.get(u.fileId) : undefined;
      if (u.fileId) seen.add(u.fileId);
      if (u.error) rows.push({ key: u.key, filename: u.filename, state: 'failed', percent: u.percent, error: u.error });
      else if (!u.fileId) rows.push({ key: u.key, filename: u.filename, state: 'uploading', percent: u.percent });
      else rows.push({ key: u.key, filename: u.filename, state: f?.state ?? 'queued', percent: f?.percent ?? 0, ...(f?.error ? { error: f.error.message } : {}) });
    }
    for (const f of this.model.files.values()) {
      if (seen.has(f.fileId)) continue;
      seen.add(f.fileId);
      rows.push({ key: f.fileId, filename: f.filename ?? 'file', state: f.state, percent: f.percent, ...(f.error ? { error: f.error.message } : {}) });
    }
    for (const f of this.serverFiles) if (!seen.has(f.id)) rows.push({ key: f.id, filename: f.filename, state: f.status, percent: 100 });
    syncList(
      this.el.files,
      rows,
      (r) => r.key,
      () => h('li', { class: 'file', 'data-testid': 'file' }, h('span', { class: 'name' }), h('progress', { max: 100 }), h('span', { class: 'state' })),
      (el, r) => {
        setData(el, 'state', r.state);
        setText(el.querySelector('.name')!, r.filename);
        const p = el.querySelector('progress') as HTMLProgressElement;
        p.value = r.state === 'ready' ? 100 : r.percent;
        p.setAttribute('aria-label', `${r.filename}: ${r.state} ${r.percent}%`);
        p.hidden = r.state === 'ready' || r.state === 'failed';
        const label = r.state === 'uploading' ? `uploading ${r.percent}%` : r.state === 'ready' ? 'ready' : r.state === 'failed' ? `failed: ${r.error ?? ''}` : `${r.state} ${r.percent}%`;
        setText(el.querySelector('.state')!, label);
      },
    );
    // Attached files, shown in the composer until sent.
    const chips = [...this.attached].map((id) => ({ id, name: this.model.files.get(id)?.filename ?? 'file' }));
    syncList(
      this.el.chips,
      chips,
      (c) => c.id,
      (c) => h('span', { class: 'chip' }, h('span', {}), h('button', { type: 'button', 'aria-label': 'Remove attachment', onclick: () => (this.attached.delete(c.id), this.schedule()) }, '×')),
      (el, c) => setText(el.firstElementChild!, `📎 ${c.name} (${this.model.files.get(c.id)?.state ?? 'queued'})`),
    );
  }

  private renderSummary() {
    const s = this.sessionId ? this.model.summaries.get(this.sessionId) : undefined;
    const key = JSON.stringify(s ?? null);
    if (this.el.summary.dataset.render === key) return;
    this.el.summary.dataset.render = key;
    clear(this.el.summary);
    if (!s || (!s.text && !s.running)) {
      this.el.summary.append(h('p', { class: 'muted' }, 'No summary yet: one is written when the session grows past its context budget.'));
      return;
    }
    if (s.running) this.el.summary.append(h('p', { class: 'pill running' }, 'Summarizing…'));
    if (s.text) this.el.summary.append(h('p', { class: 'summary-text' }, s.text));
    const f = s.fields;
    if (f) {
      const list = (title: string, items: string[], id: string) =>
        items.length ? h('div', { 'data-testid': id }, h('h4', {}, title), h('ul', {}, ...items.map((x) => h('li', {}, x)))) : null;
      this.el.summary.append(...[list('Topics', f.topics, 'topics'), list('Decisions', f.decisions, 'decisions'), list('Open questions', f.openQuestions, 'open-questions')].filter((x): x is HTMLDivElement => x !== null));
    }
    if (s.usedFallback) this.el.summary.append(h('p', { class: 'muted small' }, 'Written by the fallback (the model’s summary was unusable).'));
  }
}

function panel(title: string, ...body: HTMLElement[]) {
  return h('section', { class: 'panel' }, h('h2', {}, title), ...body);
}
