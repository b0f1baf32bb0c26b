/**
 * The fleet area: agents and their group-committed heartbeats, the agent health loop (leader
 * only), the agent work protocol, discovery, and the fleet-wide series on /metrics.
 */
import type { AgentWorkRepository } from '../db/agent-work.ts';
import type { ChangeFeed } from '../db/change-feed.ts';
import { createAgentRepository } from '../db/agents.ts';
import { createDiscoveryRepository } from '../db/discovery.ts';
import { createFleetCountsRepository } from '../db/fleet-counts.ts';
import { agentHealthLoop } from '../scheduler/agent-health.ts';
import { FleetSeries } from '../services/fleet-series.ts';
import { AgentService } from '../services/fleet/agents.ts';
import { DiscoveryService } from '../services/fleet/discovery.ts';
import { HeartbeatBatcher } from '../services/fleet/heartbeats.ts';
import { AgentWorkService } from '../services/fleet/work.ts';
import { AgentWorkWakeups } from '../services/fleet/work-wakeups.ts';
import type { IssuanceService } from '../services/pki/issuance.ts';
import type { WiringContext } from './context.ts';

export function wireFleet(
  { config, log, pool, metrics, audit, workers, cursors }: WiringContext,
  pki: { issuance: IssuanceService; agentWorkRepo: AgentWorkRepository },
  changes: ChangeFeed,
) {
  const agentRepo = createAgentRepository(pool);
  const heartbeats = new HeartbeatBatcher({
    repo: agentRepo,
    flushMs: config.heartbeatFlushMs,
    batchMax: config.heartbeatBatchMax,
    lanes: config.heartbeatLanes,
    audit,
  });
  metrics.counter('certfleet_heartbeats_recorded_total', 'Heartbeats durably recorded', () => heartbeats.heartbeats);
  metrics.counter('certfleet_heartbeat_batches_total', 'Heartbeat batches committed', () => heartbeats.batches);
  metrics.counter(
    'certfleet_heartbeats_deferred_total',
    "Agents whose heartbeat met a liveness row another replica's batch held, recorded without waiting and folded in by the leader",
    () => heartbeats.deferred,
  );
  const healthLoop = agentHealthLoop({
    repo: agentRepo,
    audit,
    offlineAfterSeconds: config.agentOfflineAfterSeconds,
    intervalSeconds: config.agentHealthIntervalSeconds,
    log,
  });

  // Counted first when the composition root says so (after a demo seed), then at most once per interval.
  const fleetSeries = new FleetSeries({ repo: createFleetCountsRepository(pool), log, maxAgeMs: config.fleetMetricsIntervalSeconds * 1000 });
  metrics.labelledGauge(
    'certfleet_certificates',
    'Certificates by issuer, stored status and time to expiry (expired, 7d, 30d, 90d: within that many days; later); counted at most once a minute',
    ['issuer', 'status', 'expires_in'],
    () => (fleetSeries.current()?.certificates ?? []).map((c) => ({ labels: { issuer: c.issuer_id, status: c.status, expires_in: c.expires_in }, value: c.n })),
  );
  metrics.labelledGauge('certfleet_agents', 'Agents not retired, by status; counted at most once a minute', ['status'], () =>
    (fleetSeries.current()?.agents ?? []).map((a) => ({ labels: { status: a.status }, value: a.n })),
  );
  metrics.gauge('certfleet_fleet_counted_timestamp_seconds', 'When certfleet_certificates and certfleet_agents were counted', () =>
    Math.floor((fleetSeries.current()?.countedAt ?? 0) / 1000),
  );

  // Work polls that wait are woken by announcements of their agent's work from any replica.
  const workWakeups = new AgentWorkWakeups({ feedUp: () => changes.healthy });
  changes.subscribe('agent_work', workWakeups);
  metrics.gauge('certfleet_agent_work_polls_waiting', 'Agent work polls held open, waiting for work to be created', () => workWakeups.waiting);
  metrics.counter('certfleet_agent_work_polls_woken_total', "Waiting work polls woken by an announcement of their agent's work", () => workWakeups.woken);
  metrics.gauge('certfleet_agent_work_polls_woken_queued', 'Woken work polls waiting for their turn to query (a few look at once)', () => workWakeups.queued);
  metrics.counter('certfleet_agent_work_polls_timed_out_total', 'Waiting work polls answered empty when their wait ran out', () => workWakeups.timedOut);

  const agents = new AgentService(agentRepo, heartbeats, audit, config.agentBootstrapToken);
  return {
    heartbeats,
    healthLoop,
    fleetSeries,
    workWakeups,
    agents,
    agentWork: new AgentWorkService(pki.agentWorkRepo, pki.issuance, audit, {
      wakeups: workWakeups,
      heartbeat: (agentId) => agents.heartbeat(agentId, undefined),
    }),
    discovery: new DiscoveryService(createDiscoveryRepository(pool), workers, audit, cursors),
  };
}
