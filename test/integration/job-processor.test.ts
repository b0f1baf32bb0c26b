/**
 * The job processor against a real database, with the CA's work stood in by a timed function:
 * never more than CERTFLEET_RENEWAL_CONCURRENCY jobs in flight (and that many reached), every
 * job claimed once; failures back off and retry, and the last one fails the renewal it answered;
 * stop() hands running jobs back (their attempt not counted); a job whose replica died (lease
 * not renewed) is requeued by job-timeouts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobRepository } from '../../src/db/jobs.ts';
import { createPool, type Pool } from '../../src/db/pool.ts';
import { createSigningJobRepository, type SigningJob } from '../../src/db/signing-jobs.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { JobProcessor } from '../../src/scheduler/job-processor.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { seedInventory, type Inventory } from '../support/fixtures.ts';
import { until, untilTrue } from '../support/until.ts';

let db: TestDatabase;
let pool: Pool;
let inv: Inventory;
const log = createLogger({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool({ connectionString: db.url, max: 8, log });
  inv = await seedInventory(db.url);
});
afterAll(async () => {
  await pool.end();
  await db.drop();
});

/** `n` certificates, each with an open renewal and a Pending Signing job answering it. */
async function queue(prefix: string, n: number, maxAttempts = 3): Promise<string[]> {
  await pool.query(
    `INSERT INTO certificates (id, name, common_name, owner_id, team_id, issuer_id, renewal_policy_id, status, expires_at)
     SELECT $1 || g, $1 || g, $1 || g || '.example.test', $2, $3, $4, $5, 'Active', now() + interval '5 days' FROM generate_series(1, $6::int) g`,
    [prefix, inv.ownerId, inv.teamId, inv.issuerId, inv.policyId, n],
  );
  await pool.query(
    `INSERT INTO jobs (id, type, certificate_id, status) SELECT 'r-' || $1 || g, 'Renewal', $1 || g, 'AwaitingCSR' FROM generate_series(1, $2::int) g`,
    [prefix, n],
  );
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO jobs (id, type, certificate_id, parent_job_id, csr_pem, status, max_attempts)
     SELECT 's-' || $1 || g, 'Signing', $1 || g, 'r-' || $1 || g, 'csr', 'Pending', $3 FROM generate_series(1, $2::int) g RETURNING id`,
    [prefix, n, maxAttempts],
  );
  return rows.map((r) => r.id);
}

const statusOf = async (ids: string[]) =>
  (
    await pool.query<{ id: string; status: string; attempts: number; scheduled_at: Date; last_error: string | null }>(
      `SELECT id, status, attempts, scheduled_at, last_error FROM jobs WHERE id = ANY($1) ORDER BY id`,
      [ids],
    )
  ).rows;

describe('job processor', () => {
  it('keeps at most `concurrency` jobs in flight, reaches it, and runs every job once', async () => {
    const ids = await queue('c', 40);
    const repo = createSigningJobRepository(pool);
    const seen: string[] = [];
    let active = 0;
    let peak = 0;
    const processor = new JobProcessor({
      jobs: repo,
      concurrency: 5,
      intervalMs: 50,
      log,
      run: async (job: SigningJob) => {
        seen.push(job.id);
        peak = Math.max(peak, ++active);
        await sleep(40);
        active--;
        await repo.complete(job.id);
      },
    });
    processor.start();
    await untilTrue('every job Completed', async () => (await statusOf(ids)).every((j) => j.status === 'Completed'), { timeoutMs: 10_000 });
    await processor.stop(1_000);
    expect(peak).toBe(5);
    expect(processor.peakInFlight).toBe(5);
    expect(seen.sort()).toEqual([...ids].sort()); // each exactly once
  });

  it('retries a failure after a growing backoff; the last failure fails the renewal it answered', async () => {
    const [id] = await queue('f', 1, 2);
    const repo = createSigningJobRepository(pool);
    const processor = new JobProcessor({
      jobs: repo,
      concurrency: 2,
      intervalMs: 50,
      backoffSeconds: 60,
      log,
      run: async () => Promise.reject(new Error('CA says no')),
    });
    await processor.tick();
    let job = await until('the first failure recorded', async () => (await statusOf([id!])).find((j) => j.attempts === 1 && j.status !== 'Running'));
    expect(job).toMatchObject({ status: 'Pending', attempts: 1, last_error: 'CA says no' });
    expect(job!.scheduled_at.getTime() - Date.now()).toBeGreaterThan(55_000); // 60 s * 2^0
    await pool.query(`UPDATE jobs SET scheduled_at = now() WHERE id = $1`, [id]);
    await processor.tick();
    job = await until('the second failure recorded', async () => (await statusOf([id!])).find((j) => j.attempts === 2 && j.status !== 'Running'));
    expect(job).toMatchObject({ status: 'Failed', attempts: 2 });
    const [parent] = await statusOf(['r-f1']);
    expect(parent).toMatchObject({ status: 'Failed', last_error: 'signing failed: CA says no' });
    await processor.stop(100);
  });

  it("stop() hands running jobs back at once; a dead replica's job is requeued when its lease lapses", async () => {
    const ids = await queue('s', 2);
    const repo = createSigningJobRepository(pool);
    const processor = new JobProcessor({
      jobs: repo,
      concurrency: 2,
      intervalMs: 60_000,
      log,
      run: (_job, signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
    });
    await processor.tick();
    expect(processor.inFlight).toBe(2);
    expect((await statusOf(ids)).map((j) => j.status)).toEqual(['Running', 'Running']);
    await processor.stop(1_000);
    expect((await statusOf(ids)).map((j) => [j.status, j.attempts])).toEqual([
      ['Pending', 0],
      ['Pending', 0],
    ]);

    // A replica that died mid-job: Running, lease (updated_at) not renewed for the timeout.
    await pool.query(`UPDATE jobs SET status = 'Running', attempts = 1, updated_at = now() - interval '11 minutes' WHERE id = $1`, [ids[0]]);
    await pool.query(`UPDATE jobs SET status = 'Running', attempts = 1, updated_at = now() WHERE id = $1`, [ids[1]]); // alive
    expect(await createJobRepository(pool).timeOutRunning(600)).toEqual({ requeued: 1, failed: 0 });
    expect((await statusOf(ids)).map((j) => j.status)).toEqual(['Pending', 'Running']);
  });
});
