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
