/**
 * Signing jobs: a CSR waiting for (or being signed by) an external CA, processed server-side by
 * the job processor of any replica (claims use SKIP LOCKED, so replicas never take the same one).
 * Lifecycle: Pending -> Running (claimed; the lease is updated_at, renewed while it runs) ->
 * Completed, or Failed with a backoff back to Pending while attempts < max_attempts, or Failed.
 * A replica that stops releases its jobs at once; one that dies loses its leases to job-timeouts.
 */
import { openIssuanceJob } from './open-jobs.ts';
import { sqlList } from './sql.ts';
import { inFlightJobStatuses } from '../domain/lifecycle.ts';
import type { Pool } from './pool.ts';
import { truncate } from '../text.ts';

export interface SigningJob {
  id: string;
  certificate_id: string;
  parent_job_id: string | null;
  agent_id: string | null;
  csr_pem: string;
  external_ref: string | null;
  attempts: number;
  max_attempts: number;
  issuer_id: string;
  issuer_type: string;
  issuer_config: Record<string, unknown>;
  names: string[];
}

export interface SigningJobRepository {
  /**
   * A Pending Signing job for this CSR, answering the certificate's open issuance/renewal job
   * (if any). A second CSR from the same agent for the same open job returns the job already
   * queued (`created` false) rather than ordering twice.
   */
  create(id: string, certificateId: string, agentId: string | undefined, csrPem: string): Promise<{ id: string; created: boolean }>;
  /** Claims up to `limit` due Pending jobs (Running, attempts + 1), oldest first. */
  claim(limit: number): Promise<SigningJob[]>;
  /** Renews the leases of these Running jobs (the processor does it every tick). */
  renew(ids: readonly string[]): Promise<void>;
  saveRef(id: string, ref: string): Promise<void>;
  complete(id: string): Promise<void>;
  /** Back to Pending after `backoffSeconds * 2^(attempts-1)` (at most 1 h), or Failed at max_attempts (with the job it answered). */
  fail(id: string, error: string, backoffSeconds: number): Promise<'retry' | 'failed'>;
  /** Back to Pending now, the interrupted attempt not counted (a replica shutting down). */
  release(ids: readonly string[]): Promise<void>;
}

export function createSigningJobRepository(pool: Pool): SigningJobRepository {
  return {
    async create(id, certificateId, agentId, csrPem) {
      const { rows } = await pool.query<{ id: string; created: boolean }>(
        `WITH parent AS (
           SELECT (SELECT j.id FROM jobs j WHERE j.certificate_id = $2 AND ${openIssuanceJob('j')}) AS id
         ), inserted AS (
           INSERT INTO jobs (id, type, certificate_id, agent_id, parent_job_id, csr_pem, status)
           SELECT $1, 'Signing', $2, $3, parent.id, $4, 'Pending' FROM parent
           ON CONFLICT (parent_job_id, coalesce(agent_id, '')) WHERE type = 'Signing' AND status IN ${sqlList(inFlightJobStatuses)}
           DO NOTHING
           RETURNING id
         )
         SELECT id, true AS created FROM inserted
         UNION ALL
         SELECT j.id, false FROM jobs j, parent
          WHERE NOT EXISTS (SELECT 1 FROM inserted) AND j.type = 'Signing' AND j.status IN ${sqlList(inFlightJobStatuses)}
            AND j.parent_job_id = parent.id AND coalesce(j.agent_id, '') = coalesce($3, '')`,
        [id, certificateId, agentId ?? null, csrPem],
      );
      return rows[0]!;
    },

    async claim(limit) {
      const { rows } = await pool.query<SigningJob>(
        `WITH claimable AS (
           SELECT j.id FROM jobs j
            WHERE j.type = 'Signing' AND j.status = 'Pending' AND j.scheduled_at <= now()
            ORDER BY j.scheduled_at, j.id
            LIMIT $1
            FOR UPDATE SKIP LOCKED
         ), claimed AS (
           UPDATE jobs j SET status = 'Running', started_at = now(), attempts = j.attempts + 1, updated_at = now()
             FROM claimable WHERE j.id = claimable.id
           RETURNING j.*
         )
         SELECT j.id, j.certificate_id, j.parent_job_id, j.agent_id, j.csr_pem, j.external_ref, j.attempts, j.max_attempts,
                i.id AS issuer_id, i.type AS issuer_type, i.config AS issuer_config,
                array_remove(array(SELECT DISTINCT lower(n) FROM unnest(c.common_name || c.sans) AS n ORDER BY 1), NULL) AS names
           FROM claimed j JOIN certificates c ON c.id = j.certificate_id JOIN issuers i ON i.id = c.issuer_id
          ORDER BY j.id`,
        [limit],
      );
      return rows;
    },

    async renew(ids) {
      if (ids.length) await pool.query(`UPDATE jobs SET updated_at = now() WHERE id = ANY($1::text[]) AND status = 'Running'`, [[...ids].sort()]);
    },

    async saveRef(id, ref) {
      await pool.query('UPDATE jobs SET external_ref = $2, updated_at = now() WHERE id = $1', [id, ref]);
    },

    async complete(id) {
      await pool.query(`UPDATE jobs SET status = 'Completed', completed_at = now(), updated_at = now(), last_error = NULL WHERE id = $1`, [id]);
    },

    async fail(id, error, backoffSeconds) {
      // The last failure fails the issuance/renewal it answered too: the certificate leaves
      // RenewalInProgress, and its agent stops being asked for CSRs the CA keeps refusing.
      const { rows } = await pool.query<{ status: string }>(
        `WITH failed AS (
           UPDATE jobs SET status = CASE WHEN attempts < max_attempts THEN 'Pending' ELSE 'Failed' END,
                  last_error = $2, updated_at = now(),
                  scheduled_at = now() + make_interval(secs => least(3600, $3 * power(2, greatest(attempts - 1, 0)))),
                  completed_at = CASE WHEN attempts < max_attempts THEN NULL ELSE now() END
            WHERE id = $1 RETURNING status, parent_job_id
         ), parent AS (
           UPDATE jobs p SET status = 'Failed', last_error = 'signing failed: ' || $2, completed_at = now(), updated_at = now()
             FROM failed WHERE failed.status = 'Failed' AND p.id = failed.parent_job_id AND ${openIssuanceJob('p')}
         )
         SELECT status FROM failed`,
        [id, truncate(error, 1000), backoffSeconds],
      );
      return rows[0]?.status === 'Pending' ? 'retry' : 'failed';
    },

    async release(ids) {
      if (ids.length === 0) return;
      await pool.query(
        `UPDATE jobs SET status = 'Pending', attempts = greatest(attempts - 1, 0), scheduled_at = now(), updated_at = now()
          WHERE id = ANY($1::text[]) AND status = 'Running'`,
        [[...ids].sort()],
      );
    },
  };
}
