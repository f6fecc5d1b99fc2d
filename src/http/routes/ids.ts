import { z } from 'zod';
import { AppError, type ErrorCode } from '../../shared/errors';

const uuid = z.uuid();

/** A path id that is not a UUID names nothing: answered as not found, never reaching the database. */
export function idParam(value: unknown, notFound: ErrorCode): string {
  const r = uuid.safeParse(value);
  if (!r.success) throw new AppError(notFound, 'Not found');
  return r.data;
}
