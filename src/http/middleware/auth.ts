import type { RequestHandler } from 'express';
import type { TokenVerifier } from '../../auth/jwt';
import type { User } from '../../db/entities';
import type { UserService } from '../../rooms/user-service';
import { AppError } from '../../shared/errors';

declare module 'express-serve-static-core' {
  interface Request {
    user?: User;
  }
}

/** Bearer JWT → upserted user on `req.user`. */
export function authenticate(verifier: TokenVerifier, users: UserService): RequestHandler {
  return async (req, _res, next) => {
    const header = req.headers.authorization;
    const match = header?.match(/^Bearer\s+(\S+)$/i);
    if (!match) throw new AppError('UNAUTHENTICATED', 'A bearer token is required');
    const claims = verifier.verify(match[1]);
    req.user = await users.upsertFromClaims(claims);
    next();
  };
}

export function currentUser(req: { user?: User }): User {
  if (!req.user) throw new AppError('UNAUTHENTICATED', 'A bearer token is required');
  return req.user;
}
