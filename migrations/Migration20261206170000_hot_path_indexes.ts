import { Migration } from '@mikro-orm/migrations';

export class Migration20261206170000_hot_path_indexes extends Migration {

  override name = 'Migration20261206170000_hot_path_indexes';

  override up(): void | Promise<void> {
    // A join's snapshot reads a room's newest messages and sessions; a turn lists the room's ready files.
    this.addSql(`create index "messages_room_id_created_at_id_index" on "messages" ("room_id", "created_at", "id");`);
    this.addSql(`create index "sessions_room_id_created_at_id_index" on "sessions" ("room_id", "created_at", "id");`);
    this.addSql(`create index "files_room_id_status_created_at_index" on "files" ("room_id", "status", "created_at");`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index "files_room_id_status_created_at_index";`);
    this.addSql(`drop index "sessions_room_id_created_at_id_index";`);
    this.addSql(`drop index "messages_room_id_created_at_id_index";`);
  }

}
