import { z } from 'zod';
import { isKnownTool, isMcpToolName, KNOWN_TOOL_NAMES } from '../domain/tool-names';
import { TOOL_APPROVAL_POLICIES } from '../contract/enums';
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

/**
 * Built-in tools are checked here; MCP tools (`mcp.<server>.<tool>`) only by their shape, since
 * which exist depends on the servers: AgentService checks them against the live tool registry.
 */
const checkToolName = (t: string, ctx: z.RefinementCtx, path: (string | number)[]) => {
  if (!isKnownTool(t) && !isMcpToolName(t)) {
    ctx.addIssue({
      code: 'custom',
      path,
      message: `unknown tool "${t}"; known tools: ${KNOWN_TOOL_NAMES.join(', ')}, or mcp.<server>.<tool> (GET /api/v1/tools)`,
      params: { code: 'UNKNOWN_TOOL' },
    });
  }
};

/** Most tools one agent may be granted (and policies it may hold). */
const MAX_AGENT_TOOLS = 64;

const toolPermissions = z
  .array(z.string().max(200))
  .max(MAX_AGENT_TOOLS)
  .superRefine((tools, ctx) => {
    for (const [i, t] of tools.entries()) checkToolName(t, ctx, [i]);
  })
  .transform((tools) => [...new Set(tools)]);

/** Per tool: `auto` (the default), `ask` (a member must approve each call) or `deny`. */
const toolApprovals = z
  .record(z.string().max(200), z.enum(TOOL_APPROVAL_POLICIES))
  .refine((m) => Object.keys(m).length <= MAX_AGENT_TOOLS, `at most ${MAX_AGENT_TOOLS} tools`)
  .superRefine((m, ctx) => {
    for (const t of Object.keys(m)) checkToolName(t, ctx, [t]);
  });

/** A ceiling only: the configured MAX_ROLE_PROMPT_CHARS is checked by AgentService. */
const ROLE_PROMPT_CEILING = 100_000;

export const createAgentBody = z.strictObject({
  key: agentKey,
  name: z.string().trim().min(1).max(100),
  rolePrompt: z.string().max(ROLE_PROMPT_CEILING).default(''),
  modelAlias: z.string().min(1).max(64).optional(),
  toolPermissions: toolPermissions.default([]),
  toolApprovals: toolApprovals.default({}),
  position: z.number().int().min(0).max(10_000).optional(),
});
export type CreateAgentBody = z.infer<typeof createAgentBody>;

export const updateAgentBody = z
  .strictObject({
    name: z.string().trim().min(1).max(100).optional(),
    rolePrompt: z.string().max(ROLE_PROMPT_CEILING).optional(),
    modelAlias: z.string().min(1).max(64).optional(),
    toolPermissions: toolPermissions.optional(),
    /** Replaces the agent's policies; tools left out are `auto`. */
    toolApprovals: toolApprovals.optional(),
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

/** `POST /sessions/:sessionId/turns/:turnId/regenerate`. */
export const regenerateBody = z.strictObject({ agentKey: z.string().trim().toLowerCase().min(1).max(64) });
/** `PATCH /messages/:messageId`; `content` is further capped by MAX_MESSAGE_CHARS. */
export const editMessageBody = z.strictObject({ content: z.string().trim().min(1), rerun: z.boolean().optional() });

/** `GET /rooms/:roomId/search`: words as a web search takes them (quotes, `or`, `-word`). */
export const searchQuery = z.object({
  q: z.string().trim().min(1).max(200),
  before: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(50).default(20),
});
/** `GET /sessions/:sessionId/export`. */
export const exportQuery = z.object({ format: z.enum(['md', 'json']).default('md') });
