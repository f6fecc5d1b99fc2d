/**
 * The time budgets are counted in (their UTC day and when it resets). Injected, so tests can move
 * a day forward; everything that orders or times turns uses the database clock instead.
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
