/**
 * Agent health: Online agents whose last heartbeat is older than the offline threshold become
 * Offline, in one set-based UPDATE per tick (certctl loaded every agent and updated them one by
 * one). Runs on the leader only (src/scheduler/leader.ts); idempotent all the same.
 */
import type { AgentRepository } from '../db/agents.ts';
import type { Logger } from '../observability/logger.ts';
import type { AuditWriter } from '../services/audit/writer.ts';
import { Loop } from './loop.ts';

export async function markStaleAgentsOffline(deps: {
  repo: Pick<AgentRepository, 'markStaleOffline'>;
  audit: AuditWriter;
  offlineAfterSeconds: number;
}): Promise<string[]> {
  return deps.audit.atomically(async () => {
    const ids = await deps.repo.markStaleOffline(deps.offlineAfterSeconds);
    await deps.audit.recordEach(
      undefined,
      ids.map((id) => ({
        action: 'agent_offline',
        resourceType: 'agent',
        resourceId: id,
        category: 'fleet',
        details: { offline_after_seconds: deps.offlineAfterSeconds },
      })),
    );
    return ids;
  });
}

export function agentHealthLoop(deps: {
  repo: Pick<AgentRepository, 'markStaleOffline'>;
  audit: AuditWriter;
  offlineAfterSeconds: number;
  intervalSeconds: number;
  log: Logger;
}): Loop {
  return new Loop({
    name: 'agent-health',
    intervalMs: deps.intervalSeconds * 1000,
    log: deps.log,
    run: async () => {
      const ids = await markStaleAgentsOffline(deps);
      if (ids.length) deps.log.info({ agents: ids.length }, 'agents marked Offline');
    },
  });
}
