/**
 * A deployment job whose agent claimed it and went silent: after the timeout it goes back to
 * Pending, or to Failed once it used its attempts; recent and other jobs are left alone.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createUnitOfWork } from '../../src/db/unit-of-work.ts';
import { createAuditRepository } from '../../src/db/audit.ts';
import { createJobRepository } from '../../src/db/jobs.ts';
import { createPool, type Pool } from '../../src/db/pool.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { timeOutJobs } from '../../src/scheduler/job-timeouts.ts';
import { AuditWriter } from '../../src/services/audit/writer.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { seedInventory, type Inventory } from '../support/fixtures.ts';

let db: TestDatabase;
let pool: Pool;
let inv: Inventory;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool({ connectionString: db.url, max: 2, log: createLogger({ level: 'silent' }) });
  inv = await seedInventory(db.url);
  await pool.query(
    `INSERT INTO certificates (id, name, common_name, owner_id, team_id, issuer_id, renewal_policy_id)
     VALUES ('c1', 'c1', 'c1.example.test', $1, $2, $3, $4)`,
    [inv.ownerId, inv.teamId, inv.issuerId, inv.policyId],
  );
  const job = (id: string, type: string, status: string, attempts: number, startedMinutesAgo: number) =>
    pool.query(
      `INSERT INTO jobs (id, type, certificate_id, target_id, agent_id, status, attempts, max_attempts, started_at)
       VALUES ($1, $2, 'c1', $3, $4, $5, $6, 3, now() - make_interval(mins => $7::int))`,
      [id, type, inv.targetId, inv.agentId, status, attempts, startedMinutesAgo],
    );
  await job('stuck', 'Deployment', 'Running', 1, 20);
  await job('stuck-last', 'Deployment', 'Running', 3, 20);
  await job('recent', 'Deployment', 'Running', 1, 2);
  await job('renewal', 'Renewal', 'Running', 1, 20);
});
afterAll(async () => {
  await pool.end();
  await db.drop();
});

it('requeues silent Running deployments, fails those out of attempts, leaves the rest', async () => {
  const audit = new AuditWriter({
    repo: createAuditRepository(pool),
    uow: createUnitOfWork(pool, createLogger({ level: 'silent' })),
    log: createLogger({ level: 'silent' }),
  });
  expect(await timeOutJobs({ jobs: createJobRepository(pool), audit, timeoutSeconds: 600 })).toEqual({ requeued: 1, failed: 1 });
  const rows = (await pool.query<{ id: string; status: string; last_error: string | null }>('SELECT id, status, last_error FROM jobs ORDER BY id')).rows;
  expect(rows.map((r) => `${r.id}:${r.status}`)).toEqual(['recent:Running', 'renewal:Running', 'stuck:Pending', 'stuck-last:Failed']);
  expect(rows.find((r) => r.id === 'stuck')!.last_error).toMatch(/timed out/);
  expect(await timeOutJobs({ jobs: createJobRepository(pool), audit, timeoutSeconds: 600 })).toEqual({ requeued: 0, failed: 0 });
  await audit.flush();
});
