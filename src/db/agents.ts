/**
 * Agents: registration (agent, liveness row and bound key in one transaction), reads, retire,
 * and the batched heartbeat write.
 */
import { translateConstraintError } from './constraint-errors.ts';
import { completeCoveredJobsSql } from './issuance.ts';
import type { Pool } from './pool.ts';
import { sqlNewId, withTransaction } from './sql.ts';
import type { AgentMetadata, AgentRow } from '../domain/agents.ts';

export interface HeartbeatEntry {
  agentId: string;
  /** Heartbeats from this agent in the batch. */
  count: number;
  /** The newest metadata sent, if any. */
  metadata: AgentMetadata | undefined;
}

export interface HeartbeatOutcome {
  /** Agents whose heartbeats were recorded (live, not retired). */
  recorded: Set<string>;
  /** Agents that went Offline/Degraded -> Online in this batch. */
  cameOnline: string[];
  /** Agents whose metadata changed in this batch. */
  metadataChanged: string[];
  /** Agents whose liveness row another batch held: recorded in heartbeat_deferred instead. */
  deferred: number;
}

const columns = `a.id, a.name, a.hostname, a.status, a.os, a.architecture, a.ip_address, a.version,
  a.registered_at, a.retired_at, a.retired_reason, l.last_heartbeat_at`;

export interface AgentRepository {
  register(agent: Pick<AgentRow, 'id' | 'name'> & AgentMetadata, key: { id: string; name: string; keyHash: string }): Promise<AgentRow>;
  get(id: string): Promise<AgentRow | undefined>;
  list(limit: number, afterId: string | undefined): Promise<AgentRow[]>;
  retire(id: string, reason: string): Promise<AgentRow | undefined>;
  writeHeartbeats(entries: readonly HeartbeatEntry[]): Promise<HeartbeatOutcome>;
  /** Marks Online agents without a heartbeat for `seconds` Offline; returns their ids. */
  markStaleOffline(seconds: number): Promise<string[]>;
}

/**
 * The batch statement's parameters: ids, counts and each metadata field as parallel arrays,
 * sorted by agent id (the batcher merges per agent, so ids are unique): concurrent batches from
 * several replicas then take row locks in one order. bench/fleet/heartbeat-batch.bench.ts.
 */
export function heartbeatBatchParams(entries: readonly HeartbeatEntry[]): unknown[] {
  const sorted = [...entries].sort((a, b) => (a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0));
  const m = (f: keyof AgentMetadata) => sorted.map((e) => e.metadata?.[f] ?? null);
  return [sorted.map((e) => e.agentId), sorted.map((e) => e.count), m('hostname'), m('os'), m('architecture'), m('ip_address'), m('version')];
}

export function createAgentRepository(pool: Pool): AgentRepository {
  const get = async (id: string) =>
    (await pool.query<AgentRow>(`SELECT ${columns} FROM agents a LEFT JOIN agent_liveness l ON l.agent_id = a.id WHERE a.id = $1`, [id])).rows[0];
  return {
    get,

    async register(agent, key) {
      try {
        await withTransaction(pool, async (client) => {
          await client.query(
            `INSERT INTO agents (id, name, hostname, os, architecture, ip_address, version)
             VALUES ($1, $2, $3, $4, $5, $6, $7)`,
            [agent.id, agent.name, agent.hostname ?? '', agent.os ?? '', agent.architecture ?? '', agent.ip_address ?? '', agent.version ?? ''],
          );
          await client.query('INSERT INTO agent_liveness (agent_id) VALUES ($1)', [agent.id]);
          await client.query(`INSERT INTO api_keys (id, name, role, key_hash, agent_id) VALUES ($1, $2, 'agent', $3, $4)`, [
            key.id,
            key.name,
            key.keyHash,
            agent.id,
          ]);
        });
      } catch (err) {
        return translateConstraintError(err, { unique: { agents_name_key: 'name' } }, 'agent');
      }
      return (await get(agent.id))!;
    },

    async markStaleOffline(seconds) {
      // Heartbeats deferred by batches that met another replica's lock count first.
      await pool.query(
        `WITH d AS (DELETE FROM heartbeat_deferred RETURNING agent_id, heartbeats, received_at),
              s AS (SELECT agent_id, sum(heartbeats) AS n, max(received_at) AS at FROM d GROUP BY agent_id)
         UPDATE agent_liveness l SET heartbeats = l.heartbeats + s.n, last_heartbeat_at = greatest(l.last_heartbeat_at, s.at)
           FROM s WHERE l.agent_id = s.agent_id`,
      );
      const { rows } = await pool.query<{ id: string }>(
        `UPDATE agents a SET status = 'Offline'
           FROM agent_liveness l
          WHERE l.agent_id = a.id AND a.status <> 'Offline' AND a.retired_at IS NULL
            AND (l.last_heartbeat_at IS NULL OR l.last_heartbeat_at < now() - make_interval(secs => $1))
         RETURNING a.id`,
        [seconds],
      );
      return rows.map((r) => r.id);
    },

    async list(limit, afterId) {
      const { rows } = await pool.query<AgentRow>(
        `SELECT ${columns} FROM agents a LEFT JOIN agent_liveness l ON l.agent_id = a.id
          WHERE a.retired_at IS NULL AND ($2::text IS NULL OR a.id > $2) ORDER BY a.id LIMIT $1`,
        [limit, afterId ?? null],
      );
      return rows;
    },

    async retire(id, reason) {
      await withTransaction(pool, async (client) => {
        await client.query(
          `UPDATE agents SET retired_at = coalesce(retired_at, now()), retired_reason = coalesce(retired_reason, $2), status = 'Offline'
            WHERE id = $1`,
          [id, reason],
        );
        // Renewals that waited only for this agent's CSR are complete now.
        await client.query(
          completeCoveredJobsSql(
            'ARRAY(SELECT m.certificate_id FROM deployment_targets t JOIN certificate_target_mappings m ON m.target_id = t.id WHERE t.agent_id = $1)',
          ),
          [id],
        );
      });
      return get(id);
    },

    async writeHeartbeats(entries) {
      // One statement, atomic on its own: one round trip per batch instead of BEGIN, two
      // UPDATEs and COMMIT (batch latency is what bounds heartbeat throughput: docs/operator/scale.md).
      // The agents row is read once (the `live` CTE checks retirement and carries the status and
      // metadata flags). Liveness rows another replica's batch holds are not
      // waited for: their heartbeats go to heartbeat_deferred in this commit (migrations/0022).
      const { rows } = await pool.query<{ id: string; was_online: boolean; meta_changed: boolean; deferred: boolean }>({
        // Named: parsed and planned once per connection, not once per batch (1.14x measured).
        name: 'write-heartbeats',
        text: `WITH u AS (
           SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
                  AS u(id, n, hostname, os, architecture, ip_address, version)
         ), live AS (
           -- The agents row is read once per heartbeat: retired agents drop out, flags ride along.
           SELECT u.*, a.status = 'Online' AS was_online,
                  (u.hostname IS NOT NULL AND u.hostname <> a.hostname) OR (u.os IS NOT NULL AND u.os <> a.os)
                  OR (u.architecture IS NOT NULL AND u.architecture <> a.architecture)
                  OR (u.ip_address IS NOT NULL AND u.ip_address <> a.ip_address)
                  OR (u.version IS NOT NULL AND u.version <> a.version) AS meta_changed
             FROM u JOIN agents a ON a.id = u.id AND a.retired_at IS NULL
         ), free AS (
           SELECT agent_id FROM agent_liveness WHERE agent_id = ANY($1::text[]) FOR NO KEY UPDATE SKIP LOCKED
         ), updated AS (
           UPDATE agent_liveness l SET last_heartbeat_at = now(), heartbeats = l.heartbeats + v.n
             FROM live v
            WHERE l.agent_id = v.id AND l.agent_id IN (SELECT agent_id FROM free)
           RETURNING l.agent_id AS id
         ), deferred AS (
           INSERT INTO heartbeat_deferred (agent_id, heartbeats)
           SELECT id, n FROM live WHERE id NOT IN (SELECT agent_id FROM free)
           RETURNING agent_id AS id
         ), recorded AS (
           SELECT v.*, d.id IS NOT NULL AS deferred
             FROM live v LEFT JOIN deferred d ON d.id = v.id
            WHERE d.id IS NOT NULL OR v.id IN (SELECT id FROM updated)
         ), changed AS (
           -- Only agents whose status or metadata actually changes are written (rare next to heartbeats).
           UPDATE agents a SET status = 'Online',
                  hostname = coalesce(r.hostname, a.hostname), os = coalesce(r.os, a.os),
                  architecture = coalesce(r.architecture, a.architecture),
                  ip_address = coalesce(r.ip_address, a.ip_address), version = coalesce(r.version, a.version)
             FROM recorded r
            WHERE a.id = r.id AND (NOT r.was_online OR r.meta_changed)
         ), audited AS (
           -- Transitions are audited in the same commit (migrations/0012_audit_outbox.sql).
           INSERT INTO audit_pending (id, actor, actor_type, action, resource_type, resource_id, category)
           SELECT ${sqlNewId('audit')}, 'system', 'System', e.action, 'agent', r.id, 'fleet'
             FROM recorded r
             CROSS JOIN LATERAL (VALUES ('agent_online', NOT r.was_online), ('agent_metadata_changed', r.meta_changed)) AS e(action, applies)
            WHERE e.applies
         )
         SELECT id, was_online, meta_changed, deferred FROM recorded`,
        values: heartbeatBatchParams(entries),
      });
      const recorded = new Set<string>();
      const cameOnline: string[] = [];
      const metadataChanged: string[] = [];
      let deferred = 0;
      for (const r of rows) {
        recorded.add(r.id);
        if (r.deferred) deferred += 1;
        if (!r.was_online) cameOnline.push(r.id);
        if (r.meta_changed) metadataChanged.push(r.id);
      }
      return { recorded, cameOnline, metadataChanged, deferred };
    },
  };
}
