import type { SearchHitDto } from '../contract/dto';
import type { Orm } from '../db/orm';
import { decodeCursor, encodeCursor, type Page } from '../shared/pagination';
import { requireMember } from './access';

/** The text search configuration of the indexes (migrations/Migration20261206140000_collaboration.ts). */
const CONFIG = 'english';
/** A file's text a snippet is looked for in: its beginning, so one big file costs a bounded amount. */
const SNIPPET_SOURCE_CHARS = 200_000;
const HEADLINE = 'MaxFragments=1, MaxWords=24, MinWords=8, StartSel=**, StopSel=**';

interface HitRow {
  kind: 'message' | 'file';
  id: string;
  created_at: Date | string;
  session_id: string | null;
  turn_id: string | null;
  author_type: string | null;
  agent_key: string | null;
  filename: string | null;
  snippet: string | null;
}

/**
 * Full-text search over a room's messages and parsed files, with PostgreSQL's text search (the
 * same on PGlite): `websearch_to_tsquery` over GIN-indexed `to_tsvector` expressions. Newest
 * first, paged by the (createdAt, id) cursor every list uses; snippets are made for the page only.
 */
export class SearchService {
  constructor(private readonly orm: Orm) {}

  async search(userId: string, roomId: string, q: { q: string; before?: string; limit: number }): Promise<Page<SearchHitDto>> {
    const em = this.orm.em.fork();
    await requireMember(em, roomId, userId);
    const cursor = decodeCursor(q.before);
    const params: unknown[] = [q.q, roomId, roomId];
    let after = '';
    if (cursor) {
      after = `where ("created_at", "id") < (?::timestamptz, ?::uuid)`;
      params.push(cursor.createdAt.toISOString(), cursor.id);
    }
    params.push(q.limit + 1);
    const rows = await em.getConnection().execute<HitRow[]>(
      `with "query" as (select websearch_to_tsquery('${CONFIG}', ?) as "q"),
       "hits" as (
         select 'message' as "kind", m."id", m."created_at" from "messages" m, "query"
          where m."room_id" = ? and m."deleted_at" is null and to_tsvector('${CONFIG}', m."content") @@ "query"."q"
         union all
         select 'file', f."id", f."created_at" from "files" f, "query"
          where f."room_id" = ? and f."status" = 'ready' and to_tsvector('${CONFIG}', "file_search_text"(f."parsed")) @@ "query"."q"
       ),
       "page" as (select * from "hits" ${after} order by "created_at" desc, "id" desc limit ?)
       select p."kind", p."id", p."created_at", m."session_id", m."turn_id", m."author_type", m."agent_key", f."filename",
              case when p."kind" = 'message'
                   then ts_headline('${CONFIG}', m."content", "query"."q", '${HEADLINE}')
                   else ts_headline('${CONFIG}', left("file_search_text"(f."parsed"), ${SNIPPET_SOURCE_CHARS}), "query"."q", '${HEADLINE}') end as "snippet"
         from "page" p cross join "query"
         left join "messages" m on p."kind" = 'message' and m."id" = p."id"
         left join "files" f on p."kind" = 'file' and f."id" = p."id"
        order by p."created_at" desc, p."id" desc`,
      params,
    );
    const page = rows.slice(0, q.limit);
    const last = page.at(-1);
    return {
      items: page.map(present),
      ...(rows.length > q.limit && last ? { nextCursor: encodeCursor({ createdAt: new Date(last.created_at), id: last.id }) } : {}),
    };
  }
}

function present(r: HitRow): SearchHitDto {
  const createdAt = new Date(r.created_at).toISOString();
  const snippet = (r.snippet ?? '').replace(/\s+/g, ' ').trim();
  if (r.kind === 'file') return { kind: 'file', id: r.id, fileId: r.id, filename: r.filename ?? '', snippet, createdAt };
  return {
    kind: 'message',
    id: r.id,
    messageId: r.id,
    sessionId: r.session_id ?? '',
    turnId: r.turn_id,
    authorType: (r.author_type ?? 'user') as 'user' | 'agent' | 'system',
    agentKey: r.agent_key,
    snippet,
    createdAt,
  };
}
