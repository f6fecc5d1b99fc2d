import { randomUUID } from 'node:crypto';

/** Every table uses UUID primary keys, so ids are one size everywhere. */
export const newId = () => randomUUID();
export const now = () => new Date();
