import { Migration } from '@mikro-orm/migrations';

export class Migration20261129135903_turn_partial extends Migration {

  override name = 'Migration20261129135903_turn_partial';

  override up(): void | Promise<void> {
    this.addSql(`alter table "turns" add "partial" jsonb null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "turns" drop column "partial";`);
  }

}
