import type { MessageDto, SessionDto } from '../contract/dto';

/** One message of an export: the message as the API shows it, and who wrote it by name. */
export type ExportedMessage = MessageDto & { authorName: string };

/** A session as `GET /sessions/:sessionId/export?format=json` answers it. */
export interface SessionExport {
  room: { id: string; name: string };
  session: SessionDto;
  exportedAt: string;
  /** Oldest first. */
  messages: ExportedMessage[];
  /** True when the session holds more messages than an export takes (EXPORT_MAX_MESSAGES): the oldest are given. */
  truncated: boolean;
}

/** A line of a member's text must not start a heading or rule of the export's own structure. */
const quoted = (text: string) =>
  text
    .split('\n')
    .map((line) => `> ${line}`)
    .join('\n');

/** The export as Markdown: a heading per message, its text quoted, so no member's text changes the document's outline. */
export function exportMarkdown(x: SessionExport): string {
  const out: string[] = [`# ${oneLine(x.session.title)}`, '', `Room: ${oneLine(x.room.name)}  `, `Exported: ${x.exportedAt}`, ''];
  if (x.session.summary) out.push('## Summary', '', quoted(x.session.summary), '');
  out.push('## Messages', '');
  for (const m of x.messages) {
    const tags = [
      m.authorType === 'agent' ? 'agent' : m.authorType === 'system' ? 'system' : null,
      m.version > 1 ? `version ${m.version}` : null,
      m.status !== 'complete' ? m.status : null,
      m.editedAt ? 'edited' : null,
    ].filter(Boolean);
    out.push(`### ${oneLine(m.authorName)}${tags.length ? ` (${tags.join(', ')})` : ''} · ${m.createdAt}`, '');
    if (m.deletedAt) {
      out.push('_This message was deleted._', '');
      continue;
    }
    if (m.attachments.length) out.push(...m.attachments.map((a) => `- Attached: ${oneLine(a.filename)} (${a.kind}, ${a.sizeBytes} bytes)`), '');
    out.push(m.content ? quoted(m.content) : '_(empty)_', '');
  }
  if (x.truncated) out.push(`_The export holds the first ${x.messages.length} messages of the session._`, '');
  return out.join('\n');
}

const oneLine = (s: string) => s.replace(/[\r\n]+/g, ' ');
