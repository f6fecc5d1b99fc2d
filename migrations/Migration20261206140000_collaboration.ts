import { Migration } from '@mikro-orm/migrations';

export class Migration20261206140000_collaboration extends Migration {

  override name = 'Migration20261206140000_collaboration';

  override up(): void | Promise<void> {
    // Attachments (what the sender attached, as it was then), versions of agent answers, edits and tombstones.
    this.addSql(`alter table "messages" add "attachments" jsonb null, add "version" int not null default 1, add "version_of_id" uuid null, add "edits" jsonb null, add "edited_at" timestamptz null, add "deleted_at" timestamptz null;`);
    this.addSql(`alter table "messages" add constraint "messages_version_of_id_foreign" foreign key ("version_of_id") references "messages" ("id") on delete cascade;`);
    this.addSql(`create index "messages_version_of_id_index" on "messages" ("version_of_id");`);
    // A turn that answers an existing message (a regeneration, or a re-run after an edit).
    this.addSql(`alter table "turns" add "trigger_message_id" uuid null, add "regenerate_message_id" uuid null, add "regenerate_agent_key" varchar(64) null;`);
    // Full-text search: the text of a parsed file, in one immutable function so the index and the query agree.
    this.addSql(`create or replace function "file_search_text"(parsed jsonb) returns text language sql immutable parallel safe as $$
      select coalesce(string_agg(t, E'\\n'), '') from (
        select p->>'text' as t from jsonb_array_elements(case when jsonb_typeof(parsed->'pages') = 'array' then parsed->'pages' else '[]'::jsonb end) p
        union all select r->>'text' from jsonb_array_elements(case when jsonb_typeof(parsed->'rows') = 'array' then parsed->'rows' else '[]'::jsonb end) r
        union all select parsed->>'text'
      ) s where t is not null
    $$;`);
    this.addSql(`create index "messages_content_search" on "messages" using gin (to_tsvector('english', "content"));`);
    this.addSql(`create index "files_parsed_search" on "files" using gin (to_tsvector('english', "file_search_text"("parsed")));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index if exists "files_parsed_search";`);
    this.addSql(`drop index if exists "messages_content_search";`);
    this.addSql(`drop function if exists "file_search_text"(jsonb);`);
    this.addSql(`alter table "turns" drop column "trigger_message_id", drop column "regenerate_message_id", drop column "regenerate_agent_key";`);
    this.addSql(`alter table "messages" drop constraint "messages_version_of_id_foreign";`);
    this.addSql(`alter table "messages" drop column "attachments", drop column "version", drop column "version_of_id", drop column "edits", drop column "edited_at", drop column "deleted_at";`);
  }

}
