import { Migration } from '@mikro-orm/migrations';

export class Migration20261206150000_budgets extends Migration {

  override name = 'Migration20261206150000_budgets';

  override up(): void | Promise<void> {
    this.addSql(`create table "budget_ledger" ("scope" text not null, "scope_id" uuid not null, "day" varchar(10) not null, "spent_tokens" bigint not null default '0', "spent_cost_usd" numeric(18,8) not null default 0, "reserved_tokens" bigint not null default '0', "reserved_cost_usd" numeric(18,8) not null default 0, primary key ("scope", "scope_id", "day"));`);
    this.addSql(`alter table "budget_ledger" add constraint "budget_ledger_scope_check" check ("scope" in ('room', 'user'));`);

    this.addSql(`alter table "llm_usage_events" add "status" text not null default 'completed', add "estimated" boolean not null default false, add "charged" boolean not null default true;`);
    this.addSql(`alter table "llm_usage_events" add constraint "llm_usage_events_status_check" check ("status" in ('completed', 'failed', 'cancelled', 'stopped'));`);
    // Manager and summary calls recorded before are infrastructure too.
    this.addSql(`update "llm_usage_events" set "charged" = false where "purpose" in ('manager', 'summary');`);
    this.addSql(`create index "llm_usage_events_user_id_created_at_index" on "llm_usage_events" ("user_id", "created_at");`);

    this.addSql(`alter table "turns" add "summary_fallback" jsonb null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "turns" drop column "summary_fallback";`);
    this.addSql(`drop index "llm_usage_events_user_id_created_at_index";`);
    this.addSql(`alter table "llm_usage_events" drop constraint "llm_usage_events_status_check";`);
    this.addSql(`alter table "llm_usage_events" drop column "status", drop column "estimated", drop column "charged";`);
    this.addSql(`drop table if exists "budget_ledger" cascade;`);
  }

}
