/**
 * The heartbeat group commit's CPU side, per batch of 256 agents (the batch size seen at 256
 * connections in the agent_storm scenario): merging beats per agent in the batcher and encoding
 * the batch statement's parameters. PostgreSQL's side is measured by the scenario itself.
 */
import type { HeartbeatEntry } from '../../src/db/agents.ts';
import { heartbeatBatchParams } from '../../src/db/agents.ts';
import { HeartbeatBatcher } from '../../src/services/fleet/heartbeats.ts';
import type { BenchFile } from '../harness.ts';

const ids = Array.from({ length: 100_000 }, (_, i) => `load-agent-${String(i + 1).padStart(7, '0')}`);
let next = 0;
const batch = (): HeartbeatEntry[] => Array.from({ length: 256 }, () => ({ agentId: ids[next++ % ids.length]!, count: 1, metadata: undefined }));
const batchWithMetadata = batch().map((e) => ({ ...e, metadata: { hostname: `${e.agentId}.fleet.test`, version: '1.2.3' } }));

// The repository is in memory: the bench measures the batcher, not PostgreSQL.
const batcher = new HeartbeatBatcher({
  repo: { writeHeartbeats: async (entries) => ({ recorded: new Set(entries.map((e) => e.agentId)), cameOnline: [], metadataChanged: [], deferred: 0 }) },
  flushMs: 0,
  batchMax: 256,
});

export default {
  title: 'heartbeat batch of 256 agents: parameter encoding, and the batcher end to end (in-memory repository)',
  cases: () => [
    { name: 'heartbeatBatchParams, 256 agents, no metadata', fn: () => void heartbeatBatchParams(batch()) },
    { name: 'heartbeatBatchParams, 256 agents, with metadata', fn: () => void heartbeatBatchParams(batchWithMetadata) },
    {
      name: 'HeartbeatBatcher: 256 beats acknowledged (one batch)',
      defer: true,
      fn: (done) => void Promise.all(batch().map((e) => batcher.beat(e.agentId, undefined))).then(done),
    },
  ],
} satisfies BenchFile;
