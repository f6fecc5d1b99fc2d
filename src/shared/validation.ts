import { z } from 'zod';
import { AppError, type ErrorCode } from './errors';

/**
 * Parses `input` with `schema` or throws one AppError built from the first issue.
 * A refinement may name its own stable code with `params: { code }` (e.g. UNKNOWN_TOOL).
 * A NUL character anywhere in the input is refused first: PostgreSQL text cannot hold one.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const nul = nulPath(input);
  if (nul) {
    const message = 'must not contain the NUL character';
    throw new AppError('VALIDATION_FAILED', `${nul.length ? `${nul.join('.')}: ` : ''}${message}`, [{ path: nul, message }]);
  }
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw validationError(result.error);
}

export function validationError(error: z.ZodError): AppError {
  const first = error.issues[0];
  const custom =
    first && first.code === 'custom' ? ((first as { params?: { code?: ErrorCode } }).params?.code ?? undefined) : undefined;
  const where = first && first.path.length ? `${first.path.join('.')}: ` : '';
  return new AppError(
    custom ?? 'VALIDATION_FAILED',
    `${where}${first?.message ?? 'invalid input'}`,
    error.issues.slice(0, 10).map((i) => ({ path: i.path.map(String), message: i.message })),
  );
}

/** Byte length of a value's JSON form, or Infinity when it cannot be serialized. */
export function jsonByteLength(value: unknown): number {
  try {
    const s = JSON.stringify(value);
    return s === undefined ? 0 : Buffer.byteLength(s, 'utf8');
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/**
 * The path of the first string (object key or value, at any depth) holding a NUL character, or
 * undefined. Walks with its own stack, each entry pointing at its parent: a deeply nested body
 * costs neither call stack nor a copy of its path per level.
 */
export function nulPath(input: unknown): string[] | undefined {
  interface Entry {
    value: unknown;
    key?: string;
    parent?: Entry;
  }
  const pathOf = (e: Entry | undefined, last?: string): string[] => {
    const path = last === undefined ? [] : [last];
    for (let at = e; at?.key !== undefined; at = at.parent) path.unshift(at.key);
    return path;
  };
  const stack: Entry[] = [{ value: input }];
  while (stack.length) {
    const entry = stack.pop()!;
    const { value } = entry;
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return pathOf(entry);
    } else if (value !== null && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        if (key.includes('\u0000')) return pathOf(entry, key.replaceAll('\u0000', '\\0'));
        stack.push({ value: child, key, parent: entry });
      }
    }
  }
  return undefined;
}
