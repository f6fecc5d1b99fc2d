import type { TokenClaims } from '../auth/jwt';
import type { Orm } from '../db/orm';
import { User } from '../db/entities';

/** Users come from JWT claims: `sub` identifies them; the name and kind follow the latest token. */
export class UserService {
  constructor(private readonly orm: Orm) {}

  async upsertFromClaims(claims: TokenClaims): Promise<User> {
    const em = this.orm.em.fork();
    const kind = claims.kind ?? 'human';
    const existing = await em.findOne(User, { sub: claims.sub });
    if (existing && (!claims.name || existing.displayName === claims.name) && existing.kind === kind) {
      return existing;
    }
    const displayName = claims.name ?? existing?.displayName ?? claims.sub;
    // Concurrent first requests of one user race here; the upsert makes both end with one row.
    return em.upsert(
      User,
      { sub: claims.sub, displayName, kind },
      { onConflictFields: ['sub'], onConflictAction: 'merge', onConflictMergeFields: ['displayName', 'kind', 'updatedAt'] },
    );
  }
}
