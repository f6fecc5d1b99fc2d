import { Migration } from '@mikro-orm/migrations';

export class Migration20261206160000_tool_approvals extends Migration {

  override name = 'Migration20261206160000_tool_approvals';

  override up(): void | Promise<void> {
    this.addSql(`alter table "agents" add "tool_approvals" jsonb not null default '{}';`);
    this.addSql(`alter table "tool_call_events" add "approval" jsonb null;`);
    // MCP tools are named `mcp.<server>.<tool>`.
    this.addSql(`alter table "tool_call_events" alter column "tool_name" type varchar(200);`);
    this.addSql(`create table "tool_approvals" ("id" uuid not null, "room_id" uuid not null, "session_id" uuid not null, "turn_id" uuid not null, "agent_key" varchar(64) not null, "tool_call_id" varchar(128) not null, "tool_name" varchar(200) not null, "input" jsonb not null, "input_key" text not null, "status" text not null default 'pending', "reason" text null, "decided_by_id" uuid null, "note" text null, "requested_at" timestamptz not null default now(), "expires_at" timestamptz not null, "decided_at" timestamptz null, "consumed_at" timestamptz null, primary key ("id"));`);
    this.addSql(`alter table "tool_approvals" add constraint "tool_approvals_turn_id_tool_call_id_unique" unique ("turn_id", "tool_call_id");`);
    this.addSql(`create index "tool_approvals_room_id_status_index" on "tool_approvals" ("room_id", "status");`);
    this.addSql(`alter table "tool_approvals" add constraint "tool_approvals_room_id_foreign" foreign key ("room_id") references "rooms" ("id") on delete cascade;`);
    this.addSql(`alter table "tool_approvals" add constraint "tool_approvals_session_id_foreign" foreign key ("session_id") references "sessions" ("id") on delete cascade;`);
    this.addSql(`alter table "tool_approvals" add constraint "tool_approvals_turn_id_foreign" foreign key ("turn_id") references "turns" ("id") on delete cascade;`);
    this.addSql(`alter table "tool_approvals" add constraint "tool_approvals_decided_by_id_foreign" foreign key ("decided_by_id") references "users" ("id") on delete set null;`);
    this.addSql(`alter table "tool_approvals" add constraint "tool_approvals_status_check" check ("status" in ('pending', 'approved', 'denied'));`);
    this.addSql(`alter table "tool_approvals" add constraint "tool_approvals_reason_check" check ("reason" in ('member', 'timeout', 'cancelled', 'policy'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "tool_approvals" cascade;`);
    this.addSql(`alter table "tool_call_events" drop column "approval";`);
    this.addSql(`alter table "tool_call_events" alter column "tool_name" type varchar(64);`);
    this.addSql(`alter table "agents" drop column "tool_approvals";`);
  }

}
