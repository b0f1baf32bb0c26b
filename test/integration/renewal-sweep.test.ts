/**
 * The renewal sweep against a real database: exactly the due certificates get a renewal job,
 * for several policies (window length, auto_renew off), skipping statuses that cannot renew
 * and certificates with an open job; a second sweep enqueues nothing; batches stream through
 * the cursor; a spent budget stops between batches.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUnitOfWork } from '../../src/db/unit-of-work.ts';
import { createAuditRepository } from '../../src/db/audit.ts';
import { presentedStatus } from '../../src/db/open-jobs.ts';
import { createJobRepository } from '../../src/db/jobs.ts';
import { createPool, type Pool } from '../../src/db/pool.ts';
import { createRenewalSweepRepository } from '../../src/db/renewal-sweep.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { AuditWriter } from '../../src/services/audit/writer.ts';
import { sweepRenewals } from '../../src/scheduler/renewal-sweep.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { seedInventory, type Inventory } from '../support/fixtures.ts';

let db: TestDatabase;
let pool: Pool;
let inv: Inventory;
let audit: AuditWriter;
const log = createLogger({ level: 'silent' });

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool({ connectionString: db.url, max: 4, log });
  inv = await seedInventory(db.url);
  audit = new AuditWriter({ repo: createAuditRepository(pool), uow: createUnitOfWork(pool, log), log });
  await pool.query(
    `INSERT INTO renewal_policies (id, name, renewal_window_days, auto_renew) VALUES
       ('p30', 'p30', 30, true), ('p10', 'p10', 10, true), ('off', 'off', 30, false)`,
  );
  const cert = (id: string, policy: string, status: string, days: number | null) =>
    pool.query(
      `INSERT INTO certificates (id, name, common_name, owner_id, team_id, issuer_id, renewal_policy_id, status, expires_at)
       VALUES ($1, $1, $1 || '.example.test', $2, $3, $4, $5, $6, CASE WHEN $7::int IS NULL THEN 'infinity' ELSE now() + make_interval(days => $7::int) END)`,
      [id, inv.ownerId, inv.teamId, inv.issuerId, policy, status, days],
    );
  await cert('due-30', 'p30', 'Active', 20);
  await cert('later-30', 'p30', 'Active', 40);
  await cert('later-10', 'p10', 'Active', 20);
  await cert('due-10', 'p10', 'Expiring', 5);
  await cert('manual', 'off', 'Active', 5);
  await cert('revoked', 'p30', 'Revoked', 5);
  await cert('archived', 'p30', 'Archived', 5);
  await cert('in-progress', 'p30', 'Active', 5);
  await cert('never-issued', 'p30', 'Pending', null);
  await cert('open-job', 'p30', 'Active', 5);
  await pool.query(
    `INSERT INTO jobs (id, type, certificate_id, status) VALUES ('job-open', 'Renewal', 'open-job', 'AwaitingCSR'), ('job-running', 'Renewal', 'in-progress', 'Running')`,
  );
});
afterAll(async () => {
  await audit.flush();
  await pool.end();
  await db.drop();
});

const deps = (batchSize = 5_000) => ({ sweep: createRenewalSweepRepository(pool), jobs: createJobRepository(pool), audit, batchSize });
const renewalJobs = async () =>
  (
    await pool.query<{ certificate_id: string }>(`SELECT certificate_id FROM jobs WHERE id NOT IN ('job-open', 'job-running') ORDER BY certificate_id`)
  ).rows.map((r) => r.certificate_id);

describe('renewal sweep', () => {
  it('enqueues exactly the due certificates, once', async () => {
    expect(await sweepRenewals(deps())).toEqual({ due: 2, enqueued: 2 });
    expect(await renewalJobs()).toEqual(['due-10', 'due-30']);
    const statuses = (
      await pool.query<{ id: string; status: string }>(`SELECT id, ${presentedStatus} AS status FROM certificates c WHERE id LIKE 'due-%' ORDER BY id`)
    ).rows;
    expect(statuses.map((r) => r.status)).toEqual(['RenewalInProgress', 'RenewalInProgress']);
    expect(await sweepRenewals(deps())).toEqual({ due: 0, enqueued: 0 });
    await audit.flush();
    const events = (await pool.query(`SELECT details FROM audit_events WHERE action = 'renewal_sweep'`)).rows;
    expect(events).toHaveLength(1);
  });

  it('streams in batches and stops between batches when the budget is spent', async () => {
    await pool.query(
      `INSERT INTO certificates (id, name, common_name, owner_id, team_id, issuer_id, renewal_policy_id, status, expires_at)
       SELECT 'bulk-' || i, 'bulk-' || i, 'bulk-' || i || '.example.test', $1, $2, $3, 'p30', 'Active', now() + interval '1 day'
         FROM generate_series(1, 25) AS i`,
      [inv.ownerId, inv.teamId, inv.issuerId],
    );
    const controller = new AbortController();
    let batches = 0;
    const counting = {
      ...deps(10),
      jobs: {
        bulkRenew: async (c: { certificate_ids?: string[] }) => {
          batches++;
          expect(c.certificate_ids!.length).toBeLessThanOrEqual(10);
          const result = await createJobRepository(pool).bulkRenew(c);
          controller.abort(); // the budget runs out after the first batch
          return result;
        },
      },
    };
    const first = await sweepRenewals(counting, controller.signal);
    expect(batches).toBe(1);
    expect(first.enqueued).toBe(10);
    expect(await sweepRenewals(deps(10))).toEqual({ due: 15, enqueued: 15 });
  });
});
