/**
 * UnitOfWork.run(work, { joinNested: true }): nested units and withTransaction join the unit's
 * transaction instead of opening savepoints (two round trips each), their audit events ride with
 * the COMMIT, and a nested failure still fails the whole unit: nothing of it commits.
 */
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAuditRepository } from '../../src/db/audit.ts';
import { createPool, type Pool } from '../../src/db/pool.ts';
import { withTransaction } from '../../src/db/sql.ts';
import { createUnitOfWork } from '../../src/db/unit-of-work.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { AuditWriter } from '../../src/services/audit/writer.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const log = createLogger({ level: 'silent' });
let db: TestDatabase;
let pool: Pool;
let audit: AuditWriter;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool({ connectionString: db.url, max: 4, log });
  audit = new AuditWriter({ repo: createAuditRepository(pool), uow: createUnitOfWork(pool, log), log });
});
afterAll(async () => {
  await audit.flush();
  await pool.end();
  await db.drop();
});
afterEach(() => vi.restoreAllMocks());

/** The SQL texts clients send while `fn` runs. */
async function sentDuring(fn: () => Promise<unknown>): Promise<string[]> {
  const sent: string[] = [];
  const query = pg.Client.prototype.query;
  vi.spyOn(pg.Client.prototype, 'query').mockImplementation(function (this: pg.Client, ...args: unknown[]) {
    const first = args[0] as string | { text?: string };
    sent.push(typeof first === 'string' ? first : (first?.text ?? ''));
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof query);
  await fn().catch(() => undefined);
  vi.restoreAllMocks();
  return sent;
}

const team = (id: string) => pool.query('INSERT INTO teams (id, name) VALUES ($1, $1)', [id]);
const event = (id: string) => audit.record(undefined, { action: 'team_created', resourceType: 'team', resourceId: id, category: 'config' });
const exists = async (id: string) => (await pool.query('SELECT 1 FROM teams WHERE id = $1', [id])).rowCount === 1;
const events = async (id: string) =>
  Number((await pool.query('SELECT count(*) AS n FROM audit_pending WHERE resource_id = $1', [id])).rows[0].n) +
  Number((await pool.query('SELECT count(*) AS n FROM audit_events WHERE resource_id = $1', [id])).rows[0].n);

describe('joinNested', () => {
  it('runs nested units and withTransaction without savepoints, and commits their events with the unit', async () => {
    const sent = await sentDuring(() =>
      audit.atomically(
        async () => {
          await team('join-1');
          await audit.atomically(async () => {
            await team('join-2');
            await event('join-2');
          });
          await withTransaction(pool, (client) => client.query("INSERT INTO teams (id, name) VALUES ('join-3', 'join-3')"));
        },
        { joinNested: true },
      ),
    );
    expect(sent.filter((q) => /SAVEPOINT/.test(q))).toEqual([]);
    expect(await exists('join-1')).toBe(true);
    expect(await exists('join-2')).toBe(true);
    expect(await exists('join-3')).toBe(true);
    expect(await events('join-2')).toBe(1);
    // The event went with the COMMIT's round trip, not as a statement of its own.
    expect(sent.some((q) => /audit_pending[\s\S]*COMMIT/.test(q))).toBe(true);
  });

  it('still uses savepoints by default', async () => {
    const sent = await sentDuring(() => audit.atomically(async () => audit.atomically(() => team('savepoint-1'))));
    expect(sent.filter((q) => /^SAVEPOINT/.test(q))).toHaveLength(1);
  });

  it('fails the whole unit when nested work fails: nothing commits', async () => {
    await expect(
      audit.atomically(
        async () => {
          await team('fail-1');
          await event('fail-1');
          await audit.atomically(async () => {
            await team('fail-2');
            await team('fail-2'); // duplicate key
          });
        },
        { joinNested: true },
      ),
    ).rejects.toThrow(/duplicate key/);
    expect(await exists('fail-1')).toBe(false);
    expect(await exists('fail-2')).toBe(false);
    expect(await events('fail-1')).toBe(0);
  });
});
