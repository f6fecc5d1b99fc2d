import { z } from 'zod';

/** How usage answers group their rows. */
export const USAGE_GROUPINGS = ['agent', 'user', 'day', 'purpose', 'room', 'alias'] as const;
export type UsageGrouping = (typeof USAGE_GROUPINGS)[number];

const DAY_MS = 24 * 3600 * 1000;
/** The longest window one usage answer covers (bounds the `day` grouping's rows). */
export const MAX_USAGE_WINDOW_DAYS = 366;
/** Without `from`: this many days before `to`. */
export const DEFAULT_USAGE_WINDOW_DAYS = 30;

const instant = z
  .string()
  .max(40)
  .refine((v) => /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(v) && !Number.isNaN(Date.parse(v)), 'must be an ISO date or date-time')
  .transform((v) => new Date(v));

/** `GET /rooms/:roomId/usage` and `GET /users/me/usage`: `from` inclusive, `to` exclusive. */
export const usageQuery = z.strictObject({
  from: instant.optional(),
  to: instant.optional(),
  groupBy: z.enum(USAGE_GROUPINGS).default('purpose'),
});
export type UsageQuery = z.output<typeof usageQuery>;

/** The window a query covers, defaults filled in; VALIDATION_FAILED-worthy problems are returned as text. */
export function usageWindow(q: UsageQuery, now: Date): { from: Date; to: Date } | { problem: string; path: string } {
  const to = q.to ?? now;
  const from = q.from ?? new Date(Date.UTC(to.getUTCFullYear(), to.getUTCMonth(), to.getUTCDate()) - DEFAULT_USAGE_WINDOW_DAYS * DAY_MS);
  if (from >= to) return { problem: 'must be before to', path: 'from' };
  if (to.getTime() - from.getTime() > MAX_USAGE_WINDOW_DAYS * DAY_MS) return { problem: `the window may span at most ${MAX_USAGE_WINDOW_DAYS} days`, path: 'from' };
  return { from, to };
}
