/**
 * Agents: registration with the bootstrap token (its own credential, compared in constant time),
 * reads, retirement, heartbeats. Registration returns the agent's API key once; the key is
 * stored hashed and bound to the agent.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AgentRepository } from '../../db/agents.ts';
import type { AgentMetadata, AgentRow } from '../../domain/agents.ts';
import { ConstraintViolation } from '../../db/constraint-errors.ts';
import { Errors } from '../../errors.ts';
import type { AuditWriter } from '../audit/writer.ts';
import { generateApiKeySecret, hashApiKey } from '../auth/api-keys.ts';
import type { Principal } from '../auth/permissions.ts';
import { newId } from '../../domain/ids.ts';
import type { HeartbeatBatcher } from './heartbeats.ts';

const digest = (value: string) => createHash('sha256').update(value).digest();

export class AgentService {
  readonly #bootstrap: Buffer | undefined;

  constructor(
    private readonly repo: AgentRepository,
    private readonly heartbeats: HeartbeatBatcher,
    private readonly audit: AuditWriter,
    bootstrapToken: string | undefined,
  ) {
    this.#bootstrap = bootstrapToken === undefined ? undefined : digest(bootstrapToken);
  }

  /** 401 unless `token` is the bootstrap token; 403 when registration is disabled. */
  checkBootstrapToken(token: string): void {
    if (!this.#bootstrap) throw Errors.forbidden('agent registration is disabled: set CERTFLEET_AGENT_BOOTSTRAP_TOKEN');
    if (!timingSafeEqual(digest(token), this.#bootstrap)) throw Errors.unauthenticated('invalid bootstrap token');
  }

  async register(input: { name: string } & AgentMetadata): Promise<{ agent: AgentRow; apiKey: string }> {
    const id = newId('agent');
    const apiKey = generateApiKeySecret();
    const agent = await this.audit.atomically(async () => {
      let agent: AgentRow;
      try {
        agent = await this.repo.register({ ...input, id }, { id: newId('ak'), name: `agent:${id}`, keyHash: hashApiKey(apiKey) });
      } catch (err) {
        if (err instanceof ConstraintViolation) throw Errors.conflict(`an agent named ${JSON.stringify(input.name)} already exists`);
        throw err;
      }
      await this.audit.record(undefined, {
        action: 'agent_registered',
        resourceType: 'agent',
        resourceId: id,
        category: 'fleet',
        details: { name: input.name, hostname: input.hostname ?? '' },
      });
      return agent;
    });
    return { agent, apiKey };
  }

  async get(id: string): Promise<AgentRow> {
    const agent = await this.repo.get(id);
    if (!agent) throw Errors.notFound(`agent ${id} not found`);
    return agent;
  }

  list(limit: number, afterId: string | undefined): Promise<AgentRow[]> {
    return this.repo.list(limit, afterId);
  }

  /** Soft retire: the agent stays for history; its routes answer 410 (its key still authenticates, so the agent learns why). */
  retire(principal: Principal | undefined, id: string, reason: string): Promise<AgentRow> {
    return this.audit.atomically(async () => {
      const before = await this.get(id);
      const agent = (await this.repo.retire(id, reason))!;
      if (!before.retired_at) {
        await this.audit.record(principal, { action: 'agent_retired', resourceType: 'agent', resourceId: id, category: 'fleet', details: { reason } });
      }
      return agent;
    });
  }

  /** Resolves once the heartbeat is durable; 410 for a retired agent. */
  async heartbeat(agentId: string, metadata: AgentMetadata | undefined): Promise<void> {
    const live = await this.heartbeats.beat(agentId, metadata);
    if (!live) throw Errors.gone(`agent ${agentId} is retired`);
  }
}
