import { z } from 'zod';
import { isKnownTool, KNOWN_TOOL_NAMES } from '../domain/tool-names';
import { MEMBER_ROLES, ROOM_MODES } from '../db/entities';
import { roomSettingsPatchSchema, roomSettingsSchema } from '../contract/room-settings';

const name = z.string().trim().min(1).max(200);


export const createRoomBody = z.strictObject({
  name,
  mode: z.enum(ROOM_MODES).default('manual'),
  settings: roomSettingsSchema.optional(),
});
export type CreateRoomBody = z.infer<typeof createRoomBody>;

export const updateRoomBody = z
  .strictObject({
    name: name.optional(),
    mode: z.enum(ROOM_MODES).optional(),
    /** Merged into the stored settings: absent keys stay, null removes a key. */
    settings: roomSettingsPatchSchema.optional(),
  })
  .refine((b) => Object.keys(b).length > 0, 'nothing to update');
export type UpdateRoomBody = z.infer<typeof updateRoomBody>;

const role = z.enum(MEMBER_ROLES);

export const addMemberBody = z.union([
  z.strictObject({ userId: z.uuid(), role: role.default('member') }),
  z.strictObject({
    sub: z.string().min(1).max(255),
    displayName: z.string().trim().min(1).max(200).optional(),
    role: role.default('member'),
  }),
]);
export type AddMemberBody = z.infer<typeof addMemberBody>;

export const updateMemberBody = z.strictObject({ role });
export type UpdateMemberBody = z.infer<typeof updateMemberBody>;

export const agentKey = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z][a-z0-9_-]{0,63}$/, 'a key starts with a letter and holds letters, digits, _ or - (max 64)');

const toolPermissions = z
  .array(z.string().max(64))
  .max(KNOWN_TOOL_NAMES.length * 2)
  .superRefine((tools, ctx) => {
    for (const [i, t] of tools.entries()) {
      if (!isKnownTool(t)) {
        ctx.addIssue({
          code: 'custom',
          path: [i],
          message: `unknown tool "${t}"; known tools: ${KNOWN_TOOL_NAMES.join(', ')}`,
          params: { code: 'UNKNOWN_TOOL' },
        });
      }
    }
  })
  .transform((tools) => [...new Set(tools)]);

/** A ceiling only: the configured MAX_ROLE_PROMPT_CHARS is checked by AgentService. */
const ROLE_PROMPT_CEILING = 100_000;

export const createAgentBody = z.strictObject({
  key: agentKey,
  name: z.string().trim().min(1).max(100),
  rolePrompt: z.string().max(ROLE_PROMPT_CEILING).default(''),
  modelAlias: z.string().min(1).max(64).optional(),
  toolPermissions: toolPermissions.default([]),
  position: z.number().int().min(0).max(10_000).optional(),
});
export type CreateAgentBody = z.infer<typeof createAgentBody>;

export const updateAgentBody = z
  .strictObject({
    name: z.string().trim().min(1).max(100).optional(),
    rolePrompt: z.string().max(ROLE_PROMPT_CEILING).optional(),
    modelAlias: z.string().min(1).max(64).optional(),
    toolPermissions: toolPermissions.optional(),
    position: z.number().int().min(0).max(10_000).optional(),
  })
  .refine((b) => Object.keys(b).length > 0, 'nothing to update');
export type UpdateAgentBody = z.infer<typeof updateAgentBody>;

export const createSessionBody = z.strictObject({ title: z.string().trim().min(1).max(200).default('New session') });
export const updateSessionBody = z.strictObject({ title: z.string().trim().min(1).max(200) });

export const listQuery = z.object({
  before: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});
