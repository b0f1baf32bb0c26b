/**
 * What an agent works on: issuance/renewal jobs AwaitingCSR for certificates mapped to its
 * targets, deployment jobs assigned to it (claimed with FOR UPDATE SKIP LOCKED so replicas
 * serving the same agent never hand out a job twice), and status reports.
 */
import type { JobRow } from '../domain/jobs.ts';
import type { Pool } from './pool.ts';
import { sqlList, withTransaction } from './sql.ts';
import { autoRenewStatuses, inFlightJobStatuses, issuanceJobTypes } from '../domain/lifecycle.ts';

export interface CsrWork {
  /** The issuance/renewal job; null for an Enrollment (an issued certificate newly mapped to this agent). */
  job_id: string | null;
  type: 'Issuance' | 'Renewal' | 'Enrollment';
  certificate_id: string;
  common_name: string;
  sans: string[];
  allowed_key_algorithms: Array<{ algorithm: string; min_size?: number }> | null;
}

export interface DeploymentWork {
  job_id: string;
  certificate_id: string;
  target_id: string;
  target_type: string;
  target_config: Record<string, unknown>;
  attempts: number;
}

export interface DeploymentOutcome {
  status: 'Completed' | 'Failed';
  error?: string | undefined;
  /** The connector's account of what it did (stored as reported; validated by the route). */
  report?: Record<string, unknown> | undefined;
}

export interface AgentWorkRepository {
  isRetired(agentId: string): Promise<boolean | undefined>;
  csrWork(agentId: string): Promise<CsrWork[]>;
  claimDeployments(agentId: string, limit: number): Promise<DeploymentWork[]>;
  /** Whether the certificate is mapped to one of the agent's targets. */
  servesCertificate(agentId: string, certificateId: string): Promise<boolean>;
  /** One Pending deployment job per enabled target of the certificate on this agent. */
  createDeployments(certificateId: string, agentId: string, ids: () => string): Promise<number>;
  /** The newest chain issued to this agent (the leaf that matches its key). */
  latestPemChain(certificateId: string, agentId: string): Promise<string | undefined>;
  /** Running -> Completed, or Running -> Failed: back to Pending with backoff while attempts < max_attempts. */
  report(agentId: string, jobId: string, outcome: DeploymentOutcome): Promise<JobRow | 'missing' | 'not-running'>;
}

export function createAgentWorkRepository(pool: Pool): AgentWorkRepository {
  return {
    async isRetired(agentId) {
      const { rows } = await pool.query<{ retired: boolean }>({
        name: 'agent-retired',
        text: 'SELECT retired_at IS NOT NULL AS retired FROM agents WHERE id = $1',
        values: [agentId],
      });
      return rows[0]?.retired;
    },

    async csrWork(agentId) {
      // Certificates this agent serves through an enabled target that need a CSR from it: an open
      // issuance/renewal job it has not answered yet, or (Enrollment) an issued certificate for
      // which it holds no key, e.g. one newly mapped to a target of this agent. Named, like every
      // statement of a work poll: planning it cost PostgreSQL 1.1 ms a poll, ten times its
      // execution (pg_stat_statements under fleet_rotation), and the text never varies.
      const { rows } = await pool.query<CsrWork>({
        name: 'agent-csr-work',
        text: `WITH served AS (
           SELECT DISTINCT m.certificate_id FROM deployment_targets t
             JOIN certificate_target_mappings m ON m.target_id = t.id
            WHERE t.agent_id = $1 AND t.enabled
         )
         SELECT j.id AS job_id, j.type, c.id AS certificate_id, c.common_name, c.sans, p.allowed_key_algorithms
           FROM served s
           JOIN certificates c ON c.id = s.certificate_id
           LEFT JOIN jobs j ON j.certificate_id = c.id AND j.type IN ${sqlList(issuanceJobTypes)} AND j.status = 'AwaitingCSR'
           LEFT JOIN certificate_profiles p ON p.id = c.certificate_profile_id
          WHERE (j.id IS NOT NULL
                 AND NOT EXISTS (SELECT 1 FROM certificate_versions v WHERE v.job_id = j.id AND v.agent_id = $1)
                 -- answered already: an external CA is signing this agent's CSR
                 AND NOT EXISTS (SELECT 1 FROM jobs s WHERE s.parent_job_id = j.id AND s.type = 'Signing' AND s.agent_id = $1
                                    AND s.status IN ${sqlList(inFlightJobStatuses)}))
             OR (j.id IS NULL AND c.status IN ${sqlList(autoRenewStatuses)}
                 AND NOT EXISTS (SELECT 1 FROM jobs o WHERE o.certificate_id = c.id AND o.type IN ${sqlList(issuanceJobTypes)}
                                    AND o.status IN ${sqlList(inFlightJobStatuses)})
                 AND NOT EXISTS (SELECT 1 FROM certificate_versions v WHERE v.certificate_id = c.id AND v.agent_id = $1))
          ORDER BY c.id`,
        values: [agentId],
      });
      for (const row of rows) row.type ??= 'Enrollment';
      return rows;
    },

    claimDeployments(agentId, limit) {
      return withTransaction(pool, async (client) => {
        const { rows } = await client.query<DeploymentWork>({
          name: 'agent-claim-deployments',
          text: `WITH claimable AS (
             SELECT j.id FROM jobs j
              WHERE j.agent_id = $1 AND j.type = 'Deployment' AND j.status = 'Pending' AND j.scheduled_at <= now()
              ORDER BY j.scheduled_at, j.id
              LIMIT $2
              FOR UPDATE SKIP LOCKED
           )
           UPDATE jobs j SET status = 'Running', started_at = now(), attempts = j.attempts + 1, updated_at = now()
             FROM claimable, deployment_targets t
            WHERE j.id = claimable.id AND t.id = j.target_id
           RETURNING j.id AS job_id, j.certificate_id, j.target_id, t.type AS target_type, t.config AS target_config, j.attempts`,
          values: [agentId, limit],
        });
        return rows;
      });
    },

    async servesCertificate(agentId, certificateId) {
      const { rowCount } = await pool.query(
        `SELECT 1 FROM certificate_target_mappings m JOIN deployment_targets t ON t.id = m.target_id
          WHERE m.certificate_id = $2 AND t.agent_id = $1 LIMIT 1`,
        [agentId, certificateId],
      );
      return (rowCount ?? 0) > 0;
    },

    async createDeployments(certificateId, agentId, ids) {
      const { rows } = await pool.query<{ target_id: string }>(
        `SELECT t.id AS target_id FROM certificate_target_mappings m JOIN deployment_targets t ON t.id = m.target_id
          WHERE m.certificate_id = $1 AND t.agent_id = $2 AND t.enabled ORDER BY t.id`,
        [certificateId, agentId],
      );
      if (rows.length === 0) return 0;
      await pool.query(
        `INSERT INTO jobs (id, type, certificate_id, target_id, agent_id, status)
         SELECT unnest($1::text[]), 'Deployment', $2, unnest($3::text[]), $4, 'Pending'`,
        [rows.map(() => ids()), certificateId, rows.map((r) => r.target_id), agentId],
      );
      return rows.length;
    },

    async latestPemChain(certificateId, agentId) {
      const { rows } = await pool.query<{ pem_chain: string }>(
        `SELECT pem_chain FROM certificate_versions WHERE certificate_id = $1 AND agent_id = $2
          ORDER BY created_at DESC, id DESC LIMIT 1`,
        [certificateId, agentId],
      );
      return rows[0]?.pem_chain;
    },

    async report(agentId, jobId, outcome) {
      // Not named: `j.*` follows the jobs table, and a prepared statement whose row type a rolling
      // upgrade's migration changes fails ("cached plan must not change result type").
      const { rows } = await pool.query<JobRow & { was_running: boolean }>(
        `WITH target AS (SELECT id, status, attempts, max_attempts FROM jobs WHERE id = $1 AND agent_id = $2 FOR UPDATE),
         reported AS (
         UPDATE jobs j SET
             status = CASE WHEN $3 = 'Completed' THEN 'Completed'
                           WHEN target.attempts < target.max_attempts THEN 'Pending' ELSE 'Failed' END,
             last_error = CASE WHEN $3 = 'Failed' THEN $4 ELSE j.last_error END,
             deployment_report = $6::jsonb,
             -- Retry backoff: 30 s, 60 s, 120 s ... capped at one hour.
             scheduled_at = CASE WHEN $3 = 'Failed'
                                 THEN now() + make_interval(secs => least(3600, $5 * power(2, greatest(target.attempts - 1, 0))))
                                 ELSE j.scheduled_at END,
             completed_at = CASE WHEN $3 = 'Completed' OR target.attempts >= target.max_attempts THEN now() ELSE NULL END,
             updated_at = now()
           FROM target
          WHERE j.id = target.id AND target.status = 'Running'
         RETURNING j.*
       ), deployed AS (
         -- The certificate's last deployment time, the moment an agent reports one done.
         UPDATE certificates c SET last_deployment_at = now()
           FROM reported r WHERE c.id = r.certificate_id AND r.type = 'Deployment' AND r.status = 'Completed'
       )
       SELECT * FROM reported`,
        [jobId, agentId, outcome.status, outcome.error ?? null, 30, outcome.report === undefined ? null : JSON.stringify(outcome.report)],
      );
      if (rows[0]) return rows[0];
      const exists = await pool.query('SELECT 1 FROM jobs WHERE id = $1 AND agent_id = $2', [jobId, agentId]);
      return (exists.rowCount ?? 0) > 0 ? 'not-running' : 'missing';
    },
  };
}
