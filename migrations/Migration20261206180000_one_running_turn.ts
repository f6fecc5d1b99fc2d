import { Migration } from '@mikro-orm/migrations';

export class Migration20261206180000_one_running_turn extends Migration {

  override name = 'Migration20261206180000_one_running_turn';

  override up(): void | Promise<void> {
    // One running turn per session, held by the database itself: a claim is one statement, and a
    // second claim racing it loses to this index instead of waiting on a lock.
    this.addSql(`create unique index "turns_one_running_per_session" on "turns" ("session_id") where "status" = 'running';`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index "turns_one_running_per_session";`);
  }

}
