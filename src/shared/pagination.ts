import { AppError } from './errors';

/** Opaque cursor over (createdAt, id), newest first. */
export interface Cursor {
  createdAt: Date;
  id: string;
}

export function encodeCursor(c: { createdAt: Date; id: string }): string {
  return Buffer.from(`${c.createdAt.toISOString()}|${c.id}`, 'utf8').toString('base64url');
}

/** Exactly what encodeCursor writes: a four-digit year, so PostgreSQL can hold the date. */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** The shape PostgreSQL's uuid type reads; anything else would fail in the query, not here. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function decodeCursor(raw: string | undefined): Cursor | undefined {
  if (raw === undefined || raw === '') return undefined;
  const text = Buffer.from(raw, 'base64url').toString('utf8');
  const [iso, id, ...rest] = text.split('|');
  const createdAt = iso && ISO_INSTANT.test(iso) ? new Date(iso) : undefined;
  // The round trip refuses impossible dates (a 13th month) that Date would roll over; year 0 is not a year.
  const dateOk = createdAt !== undefined && !Number.isNaN(createdAt.getTime()) && createdAt.toISOString() === iso && createdAt.getUTCFullYear() >= 1;
  if (!dateOk || !id || !UUID.test(id) || rest.length) {
    throw new AppError('VALIDATION_FAILED', 'cursor is not valid');
  }
  return { createdAt, id };
}

export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

/** The filter for rows strictly after `cursor` in (createdAt desc, id desc) order. */
export function olderThan(cursor: Cursor | undefined): Record<string, unknown> {
  if (!cursor) return {};
  return { $or: [{ createdAt: { $lt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { $lt: cursor.id } }] };
}

/** A page from `limit + 1` rows: the extra row only says that there is a next page. */
export function pageOf<E extends { createdAt: Date; id: string }, T>(rows: E[], limit: number, present: (e: E) => T): Page<T> {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map(present),
    ...(rows.length > limit && last ? { nextCursor: encodeCursor(last) } : {}),
  };
}
