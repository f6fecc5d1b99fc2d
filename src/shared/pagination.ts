import { AppError } from './errors';

/** Opaque cursor over (createdAt, id), newest first. */
export interface Cursor {
  createdAt: Date;
  id: string;
}

export function encodeCursor(c: { createdAt: Date; id: string }): string {
  return Buffer.from(`${c.createdAt.toISOString()}|${c.id}`, 'utf8').toString('base64url');
}

export function decodeCursor(raw: string | undefined): Cursor | undefined {
  if (raw === undefined || raw === '') return undefined;
  const text = Buffer.from(raw, 'base64url').toString('utf8');
  const [iso, id] = text.split('|');
  const createdAt = iso ? new Date(iso) : undefined;
  if (!createdAt || Number.isNaN(createdAt.getTime()) || !id || !/^[0-9a-f-]{36}$/i.test(id)) {
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
