import { z } from 'zod';
import { AppError, type ErrorCode } from './errors';

/**
 * Parses `input` with `schema` or throws one AppError built from the first issue.
 * A refinement may name its own stable code with `params: { code }` (e.g. UNKNOWN_TOOL).
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
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
