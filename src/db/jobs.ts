/** Repository for jobs. */
import { isUniqueViolation } from './pool.ts';
import type { Pool } from './pool.ts';
import { criteriaConditions, type CertificateCriteria } from './certificate-criteria.ts';
import { hasOpenIssuanceJob } from './open-jobs.ts';
import { Conditions, sqlList, sqlNewId, withTransaction } from './sql.ts';
import type { JobFilter, JobRow } from '../domain/jobs.ts';
import { isNonRenewable, issuanceJobTypeFor, issuanceJobTypes, nonRenewableStatuses, openJobStatuses, type NonRenewableStatus } from '../domain/lifecycle.ts';

export type RenewOutcome = { result: 'enqueued'; job: JobRow } | { result: 'missing' | 'open' | NonRenewableStatus };

const columns = `id, type, certificate_id, target_id, agent_id, parent_job_id, status, attempts, max_attempts, last_error,
  scheduled_at, started_at, completed_at, created_at, updated_at`;

export interface BulkRenewOutcome {
  matched: number;
  enqueued: number;
}

export interface JobRepository {
  /**
   * One renewal job (AwaitingCSR) for every matching certificate that can be renewed and has no
   * open issuance/renewal job (which makes it RenewalInProgress).
   */
  bulkRenew(criteria: CertificateCriteria): Promise<BulkRenewOutcome>;
  /**
   * Deployment jobs Running for longer than `timeoutSeconds` (their agent claimed them and went
   * silent), and Signing jobs whose lease was not renewed for that long (their replica died), go
   * back to Pending, or to Failed once they used max_attempts.
   */
  timeOutRunning(timeoutSeconds: number): Promise<{ requeued: number; failed: number }>;
  /** Creates the certificate's renewal (or first issuance) job, AwaitingCSR (so it is RenewalInProgress). */
  enqueueRenewal(certificateId: string, jobId: string): Promise<RenewOutcome>;
  get(id: string): Promise<JobRow | undefined>;
  list(filter: JobFilter, limit: number, afterId: string | undefined): Promise<JobRow[]>;
  /** Cancels from Pending, AwaitingCSR or Running; undefined when missing, the row otherwise. */
  cancel(id: string): Promise<{ job: JobRow; cancelled: boolean } | undefined>;
}

export function createJobRepository(pool: Pool): JobRepository {
  const get = async (id: string) => (await pool.query<JobRow>(`SELECT ${columns} FROM jobs WHERE id = $1`, [id])).rows[0];
  return {
    get,

    async enqueueRenewal(certificateId, jobId) {
      try {
        return await withTransaction(pool, async (client) => {
          const cert = await client.query<{ status: string; expires_at: Date | number }>(
            'SELECT status, expires_at FROM certificates WHERE id = $1 FOR UPDATE',
            [certificateId],
          );
          const row = cert.rows[0];
          if (!row) return { result: 'missing' } as const;
          if (isNonRenewable(row.status)) return { result: row.status };
          const everIssued = row.expires_at instanceof Date && Number.isFinite(row.expires_at.getTime());
          // The open job is what makes the certificate RenewalInProgress (src/db/open-jobs.ts).
          const { rows } = await client.query<JobRow>(
            `INSERT INTO jobs (id, type, certificate_id, status) VALUES ($1, $2, $3, 'AwaitingCSR') RETURNING ${columns}`,
            [jobId, issuanceJobTypeFor(everIssued), certificateId],
          );
          return { result: 'enqueued', job: rows[0]! } as const;
        });
      } catch (err) {
        if (isUniqueViolation(err, 'jobs_one_open_issuance')) return { result: 'open' };
        throw err;
      }
    },

    async bulkRenew(criteria) {
      const c = criteriaConditions(criteria);
      // One statement. Concurrent identical requests (or replicas) cannot enqueue twice: the
      // partial unique index jobs_one_open_issuance turns the loser's insert into DO NOTHING.
      // Certificates already in progress are filtered out first (`open`): a repeated request
      // over 100,000 of them costs 0.35 s instead of 1.4 s of speculative inserts.
      // Certificate rows are not written: the open job makes them RenewalInProgress (writing a
      // status made 100,000 renewals 20.3 s instead of 5.1 s, docs/operator/scale.md). Ids have
      // newId's shape (time-ordered prefix, random suffix) from gen_random_uuid().
      const { rows } = await pool.query<{ matched: number; enqueued: number }>(
        `WITH matched AS (
           SELECT c.id, c.status, c.expires_at, ${hasOpenIssuanceJob} AS open FROM certificates c ${c.where}
         ), created AS (
           INSERT INTO jobs (id, type, certificate_id, status)
           SELECT ${sqlNewId('job')},
                  CASE WHEN isfinite(m.expires_at) THEN '${issuanceJobTypeFor(true)}' ELSE '${issuanceJobTypeFor(false)}' END, m.id, 'AwaitingCSR'
             FROM matched m
            WHERE m.status NOT IN ${sqlList(nonRenewableStatuses)} AND NOT m.open
            ORDER BY m.id
           ON CONFLICT (certificate_id) WHERE type IN ${sqlList(issuanceJobTypes)} AND status IN ${sqlList(openJobStatuses)}
           DO NOTHING
           RETURNING certificate_id
         )
         SELECT (SELECT count(*)::int FROM matched) AS matched, (SELECT count(*)::int FROM created) AS enqueued`,
        c.params,
      );
      return rows[0]!;
    },

    async timeOutRunning(timeoutSeconds) {
      const { rows } = await pool.query<{ requeued: number; failed: number }>(
        `WITH timed_out AS (
           UPDATE jobs SET status = CASE WHEN attempts >= max_attempts THEN 'Failed' ELSE 'Pending' END,
                  last_error = 'timed out: Running for more than ' || $1 || ' s without a report',
                  scheduled_at = now(), updated_at = now(),
                  completed_at = CASE WHEN attempts >= max_attempts THEN now() END
            WHERE status = 'Running' AND ((type = 'Deployment' AND started_at < now() - make_interval(secs => $1))
                                          -- a Signing job's lease is renewed by its processor while it runs
                                          OR (type = 'Signing' AND updated_at < now() - make_interval(secs => $1)))
           RETURNING status
         )
         SELECT count(*) FILTER (WHERE status = 'Pending')::int AS requeued, count(*) FILTER (WHERE status = 'Failed')::int AS failed
           FROM timed_out`,
        [timeoutSeconds],
      );
      return rows[0]!;
    },

    async list(filter, limit, afterId) {
      const c = new Conditions();
      if (filter.status) c.add('status = ?', filter.status);
      if (filter.type) c.add('type = ?', filter.type);
      if (filter.certificate_id) c.add('certificate_id = ?', filter.certificate_id);
      if (filter.agent_id) c.add('agent_id = ?', filter.agent_id);
      if (afterId) c.add('id > ?', afterId);
      const { rows } = await pool.query<JobRow>(`SELECT ${columns} FROM jobs ${c.where} ORDER BY id LIMIT ${c.param(limit)}`, c.params);
      return rows;
    },

    async cancel(id) {
      // Cancelling an issuance/renewal ends RenewalInProgress by itself (the status is derived).
      const { rows } = await pool.query<JobRow>(
        `UPDATE jobs SET status = 'Cancelled', completed_at = now(), updated_at = now()
          WHERE id = $1 AND status IN ${sqlList(openJobStatuses)} RETURNING ${columns}`,
        [id],
      );
      if (rows[0]) return { job: rows[0], cancelled: true };
      const job = await get(id);
      return job ? { job, cancelled: false } : undefined;
    },
  };
}
