import { z } from 'zod';

/** What happens when a message arrives while the session's turn runs. */
export const BUSY_POLICIES = ['queue', 'reject', 'interrupt'] as const;
export type BusyPolicy = (typeof BUSY_POLICIES)[number];

const positiveInt = z.number().int().positive().max(1_000_000_000_000);
const money = z.number().nonnegative().max(1_000_000_000);

/** A room's budgets; a key left out (or null) falls back to the server default, null meaning "use the default". */
export const roomBudgetSchema = z.strictObject({
  /** Tokens the room's agents may spend per UTC day (input + output). */
  dailyTokens: positiveInt.nullable().optional(),
  /** Cost in USD the room's agents may spend per UTC day. */
  dailyCostUsd: money.nullable().optional(),
});

/**
 * Room settings, every key documented in docs/api.md. Unknown keys are refused; a PATCH merges
 * into the stored object (a key set to null is removed, `budget` merges one level deeper).
 * Model aliases are checked against the configured alias table by RoomService.
 */
export const roomSettingsSchema = z.strictObject({
  /** Alias used by the orchestrator's manager model; defaults to the server's default alias. */
  managerModelAlias: z.string().min(1).max(64).optional(),
  /** Context budget in tokens before the session summary runs. */
  contextBudgetTokens: z.number().int().min(256).max(10_000_000).optional(),
  /** What happens when a message arrives while the session's turn runs (default `queue`). */
  busyPolicy: z.enum(BUSY_POLICIES).optional(),
  budget: roomBudgetSchema.optional(),
});
export type RoomSettings = z.infer<typeof roomSettingsSchema>;

/** A PATCH of settings: each key may be null to remove it. */
export const roomSettingsPatchSchema = z.strictObject({
  managerModelAlias: roomSettingsSchema.shape.managerModelAlias.unwrap().nullable().optional(),
  contextBudgetTokens: roomSettingsSchema.shape.contextBudgetTokens.unwrap().nullable().optional(),
  busyPolicy: roomSettingsSchema.shape.busyPolicy.unwrap().nullable().optional(),
  budget: roomBudgetSchema.nullable().optional(),
});
export type RoomSettingsPatch = z.infer<typeof roomSettingsPatchSchema>;

/** Merges a PATCH into stored settings: absent keys stay, null removes, `budget` merges its own keys. */
export function mergeRoomSettings(current: RoomSettings, patch: RoomSettingsPatch): RoomSettings {
  const next: Record<string, unknown> = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if (value === null) {
      delete next[key];
      continue;
    }
    if (key === 'budget') {
      const merged: Record<string, unknown> = { ...(current.budget ?? {}) };
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (v === undefined) continue;
        if (v === null) delete merged[k];
        else merged[k] = v;
      }
      if (Object.keys(merged).length) next.budget = merged;
      else delete next.budget;
      continue;
    }
    next[key] = value;
  }
  return next as RoomSettings;
}
