import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { AgentDto } from '../contract/dto';
import type { Orm } from '../db/orm';
import { Agent, Room } from '../db/entities';
import { isMcpToolName } from '../domain/tool-names';
import { AppError } from '../shared/errors';
import type { DomainEvents } from '../shared/domain-events';
import { requireMember, requirePermission } from './access';
import { requireBelowCap } from './caps';
import { presentAgent } from './presenters';
import type { CreateAgentBody, UpdateAgentBody } from './schemas';

/** The agents of a room; members read them, owners and admins manage them. */
export class AgentService {
  constructor(
    private readonly orm: Orm,
    private readonly events: DomainEvents,
    private readonly modelAliases: () => string[],
    private readonly defaultModelAlias: string,
    private readonly limits: { agentsPerRoom: number; rolePromptChars: number },
    /** The live tool registry: MCP tools exist only while their server is configured and has listed them. */
    private readonly toolExists: (name: string) => boolean = () => false,
  ) {}

  /** MCP tools named by permissions or policies must be in the registry (built-ins were checked by the schema). */
  private checkTools(body: { toolPermissions?: string[]; toolApprovals?: Record<string, string> }) {
    const named = [
      ...(body.toolPermissions ?? []).map((t, i) => ({ t, path: ['toolPermissions', i] })),
      ...Object.keys(body.toolApprovals ?? {}).map((t) => ({ t, path: ['toolApprovals', t] })),
    ];
    for (const { t, path } of named) {
      if (isMcpToolName(t) && !this.toolExists(t)) {
        throw new AppError('UNKNOWN_TOOL', `Unknown tool "${t}"; GET /api/v1/tools lists the tools`, [{ path, message: `unknown tool "${t}"` }]);
      }
    }
  }

  /** Every role prompt is pasted into each of the agent's model calls: its size is capped. */
  private checkRolePrompt(rolePrompt: string | undefined) {
    const max = this.limits.rolePromptChars;
    if (rolePrompt !== undefined && rolePrompt.length > max) {
      const message = `at most ${max} characters`;
      throw new AppError('VALIDATION_FAILED', `rolePrompt: ${message}`, [{ path: ['rolePrompt'], message }]);
    }
  }

  private checkAlias(alias: string) {
    if (!this.modelAliases().includes(alias)) {
      throw new AppError('UNKNOWN_MODEL_ALIAS', `Unknown model alias "${alias}"; known: ${this.modelAliases().join(', ')}`);
    }
  }

  async list(userId: string, roomId: string): Promise<{ items: AgentDto[] }> {
    const em = this.orm.em.fork();
    await requireMember(em, roomId, userId);
    const agents = await em.find(Agent, { room: roomId }, { orderBy: { position: 'asc', createdAt: 'asc' } });
    return { items: agents.map(presentAgent) };
  }

  async get(userId: string, roomId: string, key: string): Promise<AgentDto> {
    const em = this.orm.em.fork();
    await requireMember(em, roomId, userId);
    return presentAgent(await this.find(em, roomId, key));
  }

  async create(userId: string, roomId: string, body: CreateAgentBody): Promise<AgentDto> {
    this.checkRolePrompt(body.rolePrompt);
    this.checkTools(body);
    let agent: Agent;
    try {
      agent = await this.orm.em.fork().transactional(async (em) => {
        const { room } = await requirePermission(em, roomId, userId, 'agents.manage');
        const modelAlias = body.modelAlias ?? this.defaultModelAlias;
        this.checkAlias(modelAlias);
        // Each agent of a roundtable is one model call per message: their number is capped.
        const cap = { limit: 'agentsPerRoom', max: this.limits.agentsPerRoom, what: 'agents per room' } as const;
        await requireBelowCap(em, room, cap, () => em.count(Agent, { room: roomId }));
        let position = body.position;
        if (position === undefined) {
          const last = await em.findOne(Agent, { room: roomId }, { orderBy: { position: 'desc' } });
          position = last ? last.position + 1 : 0;
        }
        return em.create(Agent, {
          room: em.getReference(Room, roomId),
          key: body.key,
          name: body.name,
          rolePrompt: body.rolePrompt,
          modelAlias,
          toolPermissions: body.toolPermissions,
          toolApprovals: body.toolApprovals,
          position,
        });
      });
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) {
        throw new AppError('AGENT_KEY_TAKEN', `This room already has an agent with key "${body.key}"`);
      }
      throw err;
    }
    this.events.emit('agents:changed', { roomId });
    return presentAgent(agent);
  }

  async update(userId: string, roomId: string, key: string, body: UpdateAgentBody): Promise<AgentDto> {
    this.checkRolePrompt(body.rolePrompt);
    this.checkTools(body);
    const em = this.orm.em.fork();
    await requirePermission(em, roomId, userId, 'agents.manage');
    const agent = await this.find(em, roomId, key);
    if (body.modelAlias !== undefined) {
      this.checkAlias(body.modelAlias);
      agent.modelAlias = body.modelAlias;
    }
    if (body.name !== undefined) agent.name = body.name;
    if (body.rolePrompt !== undefined) agent.rolePrompt = body.rolePrompt;
    if (body.toolPermissions !== undefined) agent.toolPermissions = body.toolPermissions;
    if (body.toolApprovals !== undefined) agent.toolApprovals = body.toolApprovals;
    if (body.position !== undefined) agent.position = body.position;
    await em.flush();
    this.events.emit('agents:changed', { roomId });
    return presentAgent(agent);
  }

  async remove(userId: string, roomId: string, key: string): Promise<void> {
    const em = this.orm.em.fork();
    await requirePermission(em, roomId, userId, 'agents.manage');
    await em.remove(await this.find(em, roomId, key)).flush();
    this.events.emit('agents:changed', { roomId });
  }

  private async find(em: ReturnType<Orm['em']['fork']>, roomId: string, key: string): Promise<Agent> {
    const agent = await em.findOne(Agent, { room: roomId, key: key.toLowerCase() });
    if (!agent) throw new AppError('AGENT_NOT_FOUND', `No agent "${key}" in this room`);
    return agent;
  }
}
