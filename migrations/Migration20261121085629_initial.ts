import { Migration } from '@mikro-orm/migrations';

export class Migration20261121085629_initial extends Migration {

  override name = 'Migration20261121085629_initial';

  override up(): void | Promise<void> {
    this.addSql(`create table "users" ("id" uuid not null, "sub" varchar(255) not null, "display_name" varchar(200) not null, "kind" text not null default 'human', "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`alter table "users" add constraint "users_sub_unique" unique ("sub");`);

    this.addSql(`create table "rooms" ("id" uuid not null, "name" varchar(200) not null, "mode" text not null default 'manual', "settings" jsonb not null, "created_by_id" uuid not null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`);

    this.addSql(`create table "files" ("id" uuid not null, "room_id" uuid not null, "uploaded_by_id" uuid null, "filename" varchar(255) not null, "kind" text not null, "mime" varchar(100) not null, "size_bytes" bigint not null, "sha256" varchar(64) not null, "status" text not null default 'queued', "error_code" varchar(64) null, "error_message" text null, "parsed" jsonb null, "meta" jsonb null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "files_sha256_index" on "files" ("sha256");`);

    this.addSql(`create table "sessions" ("id" uuid not null, "room_id" uuid not null, "title" varchar(200) not null, "summary" text null, "summary_data" jsonb null, "summary_updated_at" timestamptz null, "created_by_id" uuid not null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`);

    this.addSql(`create table "turns" ("id" uuid not null, "room_id" uuid not null, "session_id" uuid not null, "requested_by_id" uuid not null, "status" text not null default 'queued', "mode" text not null, "plan" jsonb null, "error" text null, "queued_at" timestamptz not null default now(), "started_at" timestamptz null, "ended_at" timestamptz null, "summary_triggered" boolean not null default false, "runner_id" uuid null, "heartbeat_at" timestamptz null, primary key ("id"));`);
    this.addSql(`create index "turns_session_id_status_index" on "turns" ("session_id", "status");`);
    this.addSql(`create index "turns_status_heartbeat_at_index" on "turns" ("status", "heartbeat_at");`);

    this.addSql(`create table "tool_call_events" ("id" uuid not null, "room_id" uuid not null, "session_id" uuid not null, "turn_id" uuid not null, "user_id" uuid null, "agent_key" varchar(64) not null, "tool_call_id" varchar(128) not null, "tool_name" varchar(64) not null, "status" text not null default 'started', "input" jsonb null, "output" jsonb null, "error" text null, "latency_ms" int null, "created_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "tool_call_events_turn_id_index" on "tool_call_events" ("turn_id");`);

    this.addSql(`create table "room_members" ("id" uuid not null, "room_id" uuid not null, "user_id" uuid not null, "role" text not null default 'member', "created_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "room_members_user_id_index" on "room_members" ("user_id");`);
    this.addSql(`alter table "room_members" add constraint "room_members_room_id_user_id_unique" unique ("room_id", "user_id");`);

    this.addSql(`create table "agents" ("id" uuid not null, "room_id" uuid not null, "key" varchar(64) not null, "name" varchar(100) not null, "role_prompt" text not null, "model_alias" varchar(64) not null, "tool_permissions" jsonb not null, "position" int not null default 0, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`alter table "agents" add constraint "agents_room_id_key_unique" unique ("room_id", "key");`);

    this.addSql(`create table "messages" ("id" uuid not null, "room_id" uuid not null, "session_id" uuid not null, "turn_id" uuid null, "author_type" text not null, "author_user_id" uuid null, "agent_key" varchar(64) null, "content" text not null, "status" text not null default 'complete', "model_alias" varchar(64) null, "client_msg_id" varchar(128) null, "error" text null, "created_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "messages_turn_id_index" on "messages" ("turn_id");`);
    this.addSql(`create index "messages_session_id_created_at_id_index" on "messages" ("session_id", "created_at", "id");`);
    this.addSql(`alter table "messages" add constraint "messages_session_id_author_user_id_client_msg_id_unique" unique ("session_id", "author_user_id", "client_msg_id");`);

    this.addSql(`create table "llm_usage_events" ("id" uuid not null, "room_id" uuid not null, "session_id" uuid not null, "turn_id" uuid not null, "user_id" uuid null, "agent_key" varchar(64) null, "purpose" text not null, "model_alias" varchar(64) not null, "model" varchar(200) not null, "input_tokens" int not null default 0, "output_tokens" int not null default 0, "cost_usd" numeric(14,8) not null default 0, "latency_ms" int null, "created_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "llm_usage_events_turn_id_index" on "llm_usage_events" ("turn_id");`);
    this.addSql(`create index "llm_usage_events_room_id_created_at_index" on "llm_usage_events" ("room_id", "created_at");`);

    this.addSql(`alter table "users" add constraint "users_kind_check" check ("kind" in ('human', 'bot'));`);

    this.addSql(`alter table "rooms" add constraint "rooms_created_by_id_foreign" foreign key ("created_by_id") references "users" ("id") on delete restrict;`);
    this.addSql(`alter table "rooms" add constraint "rooms_mode_check" check ("mode" in ('manual', 'roundtable', 'orchestrator'));`);

    this.addSql(`alter table "files" add constraint "files_room_id_foreign" foreign key ("room_id") references "rooms" ("id") on delete cascade;`);
    this.addSql(`alter table "files" add constraint "files_uploaded_by_id_foreign" foreign key ("uploaded_by_id") references "users" ("id") on delete set null;`);
    this.addSql(`alter table "files" add constraint "files_kind_check" check ("kind" in ('pdf', 'docx', 'csv', 'txt', 'md'));`);
    this.addSql(`alter table "files" add constraint "files_status_check" check ("status" in ('queued', 'parsing', 'ready', 'failed'));`);

    this.addSql(`alter table "sessions" add constraint "sessions_room_id_foreign" foreign key ("room_id") references "rooms" ("id") on delete cascade;`);
    this.addSql(`alter table "sessions" add constraint "sessions_created_by_id_foreign" foreign key ("created_by_id") references "users" ("id") on delete restrict;`);

    this.addSql(`alter table "turns" add constraint "turns_room_id_foreign" foreign key ("room_id") references "rooms" ("id") on delete cascade;`);
    this.addSql(`alter table "turns" add constraint "turns_session_id_foreign" foreign key ("session_id") references "sessions" ("id") on delete cascade;`);
    this.addSql(`alter table "turns" add constraint "turns_requested_by_id_foreign" foreign key ("requested_by_id") references "users" ("id") on delete restrict;`);
    this.addSql(`alter table "turns" add constraint "turns_status_check" check ("status" in ('queued', 'running', 'completed', 'partial', 'failed', 'cancelled', 'interrupted'));`);
    this.addSql(`alter table "turns" add constraint "turns_mode_check" check ("mode" in ('manual', 'roundtable', 'orchestrator'));`);

    this.addSql(`alter table "tool_call_events" add constraint "tool_call_events_room_id_foreign" foreign key ("room_id") references "rooms" ("id") on delete cascade;`);
    this.addSql(`alter table "tool_call_events" add constraint "tool_call_events_session_id_foreign" foreign key ("session_id") references "sessions" ("id") on delete cascade;`);
    this.addSql(`alter table "tool_call_events" add constraint "tool_call_events_turn_id_foreign" foreign key ("turn_id") references "turns" ("id") on delete cascade;`);
    this.addSql(`alter table "tool_call_events" add constraint "tool_call_events_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete set null;`);
    this.addSql(`alter table "tool_call_events" add constraint "tool_call_events_status_check" check ("status" in ('started', 'succeeded', 'failed'));`);

    this.addSql(`alter table "room_members" add constraint "room_members_room_id_foreign" foreign key ("room_id") references "rooms" ("id") on delete cascade;`);
    this.addSql(`alter table "room_members" add constraint "room_members_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade;`);
    this.addSql(`alter table "room_members" add constraint "room_members_role_check" check ("role" in ('owner', 'member'));`);

    this.addSql(`alter table "agents" add constraint "agents_room_id_foreign" foreign key ("room_id") references "rooms" ("id") on delete cascade;`);

    this.addSql(`alter table "messages" add constraint "messages_room_id_foreign" foreign key ("room_id") references "rooms" ("id") on delete cascade;`);
    this.addSql(`alter table "messages" add constraint "messages_session_id_foreign" foreign key ("session_id") references "sessions" ("id") on delete cascade;`);
    this.addSql(`alter table "messages" add constraint "messages_turn_id_foreign" foreign key ("turn_id") references "turns" ("id") on delete set null;`);
    this.addSql(`alter table "messages" add constraint "messages_author_user_id_foreign" foreign key ("author_user_id") references "users" ("id") on delete set null;`);
    this.addSql(`alter table "messages" add constraint "messages_author_type_check" check ("author_type" in ('user', 'agent', 'system'));`);
    this.addSql(`alter table "messages" add constraint "messages_status_check" check ("status" in ('complete', 'partial', 'failed', 'cancelled'));`);

    this.addSql(`alter table "llm_usage_events" add constraint "llm_usage_events_room_id_foreign" foreign key ("room_id") references "rooms" ("id") on delete cascade;`);
    this.addSql(`alter table "llm_usage_events" add constraint "llm_usage_events_session_id_foreign" foreign key ("session_id") references "sessions" ("id") on delete cascade;`);
    this.addSql(`alter table "llm_usage_events" add constraint "llm_usage_events_turn_id_foreign" foreign key ("turn_id") references "turns" ("id") on delete cascade;`);
    this.addSql(`alter table "llm_usage_events" add constraint "llm_usage_events_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete set null;`);
    this.addSql(`alter table "llm_usage_events" add constraint "llm_usage_events_purpose_check" check ("purpose" in ('agent', 'manager', 'summary'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "rooms" drop constraint "rooms_created_by_id_foreign";`);
    this.addSql(`alter table "files" drop constraint "files_uploaded_by_id_foreign";`);
    this.addSql(`alter table "sessions" drop constraint "sessions_created_by_id_foreign";`);
    this.addSql(`alter table "turns" drop constraint "turns_requested_by_id_foreign";`);
    this.addSql(`alter table "tool_call_events" drop constraint "tool_call_events_user_id_foreign";`);
    this.addSql(`alter table "room_members" drop constraint "room_members_user_id_foreign";`);
    this.addSql(`alter table "messages" drop constraint "messages_author_user_id_foreign";`);
    this.addSql(`alter table "llm_usage_events" drop constraint "llm_usage_events_user_id_foreign";`);
    this.addSql(`alter table "files" drop constraint "files_room_id_foreign";`);
    this.addSql(`alter table "sessions" drop constraint "sessions_room_id_foreign";`);
    this.addSql(`alter table "turns" drop constraint "turns_room_id_foreign";`);
    this.addSql(`alter table "tool_call_events" drop constraint "tool_call_events_room_id_foreign";`);
    this.addSql(`alter table "room_members" drop constraint "room_members_room_id_foreign";`);
    this.addSql(`alter table "agents" drop constraint "agents_room_id_foreign";`);
    this.addSql(`alter table "messages" drop constraint "messages_room_id_foreign";`);
    this.addSql(`alter table "llm_usage_events" drop constraint "llm_usage_events_room_id_foreign";`);
    this.addSql(`alter table "turns" drop constraint "turns_session_id_foreign";`);
    this.addSql(`alter table "tool_call_events" drop constraint "tool_call_events_session_id_foreign";`);
    this.addSql(`alter table "messages" drop constraint "messages_session_id_foreign";`);
    this.addSql(`alter table "llm_usage_events" drop constraint "llm_usage_events_session_id_foreign";`);
    this.addSql(`alter table "tool_call_events" drop constraint "tool_call_events_turn_id_foreign";`);
    this.addSql(`alter table "messages" drop constraint "messages_turn_id_foreign";`);
    this.addSql(`alter table "llm_usage_events" drop constraint "llm_usage_events_turn_id_foreign";`);

    this.addSql(`drop table if exists "users" cascade;`);
    this.addSql(`drop table if exists "rooms" cascade;`);
    this.addSql(`drop table if exists "files" cascade;`);
    this.addSql(`drop table if exists "sessions" cascade;`);
    this.addSql(`drop table if exists "turns" cascade;`);
    this.addSql(`drop table if exists "tool_call_events" cascade;`);
    this.addSql(`drop table if exists "room_members" cascade;`);
    this.addSql(`drop table if exists "agents" cascade;`);
    this.addSql(`drop table if exists "messages" cascade;`);
    this.addSql(`drop table if exists "llm_usage_events" cascade;`);
  }

}
