import { Migration } from '@mikro-orm/migrations';

export class Migration20261206120000_member_roles extends Migration {

  override name = 'Migration20261206120000_member_roles';

  override up(): void | Promise<void> {
    this.addSql(`alter table "room_members" drop constraint if exists "room_members_role_check";`);
    this.addSql(`alter table "room_members" add constraint "room_members_role_check" check ("role" in ('owner', 'admin', 'member', 'viewer'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`update "room_members" set "role" = 'member' where "role" in ('admin', 'viewer');`);
    this.addSql(`alter table "room_members" drop constraint if exists "room_members_role_check";`);
    this.addSql(`alter table "room_members" add constraint "room_members_role_check" check ("role" in ('owner', 'member'));`);
  }

}
