import { Migration } from '@mikro-orm/migrations';

export class Migration20261129130320_turn_outbox extends Migration {

  override name = 'Migration20261129130320_turn_outbox';

  override up(): void | Promise<void> {
    this.addSql(`alter table "turns" add "queue_announced_at" timestamptz null, add "end_announced_at" timestamptz null;`);
    this.addSql(`create index "turns_end_announced_at_index" on "turns" ("end_announced_at");`);
    // Turns from before the outbox were announced when they happened; only those still running
    // are left for the sweep, which announces them when it interrupts them.
    this.addSql(`update "turns" set "queue_announced_at" = "queued_at";`);
    this.addSql(`update "turns" set "end_announced_at" = coalesce("ended_at", "queued_at") where "status" not in ('queued', 'running');`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index "turns_end_announced_at_index";`);
    this.addSql(`alter table "turns" drop column "queue_announced_at", drop column "end_announced_at";`);
  }

}
