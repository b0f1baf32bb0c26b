/**
 * Issue 12, finding 2: a write and its audit event commit together or not at all, and no request
 * is failed by another request's event. Before the outbox, events of concurrent requests shared
 * one group-commit batch written after the requests' own commits: one event PostgreSQL refused
 * (a lone surrogate, 5 of 65 requests) failed the whole batch, so 57 requests got 500 after their
 * rows had committed, with no audit events at all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditRepository } from '../../src/db/audit.ts';
import { createPool, type Pool } from '../../src/db/pool.ts';
import { createTableRepository } from '../../src/db/table-repository.ts';
import { createUnitOfWork } from '../../src/db/unit-of-work.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { AuditLog } from '../../src/services/audit/audit-log.ts';
import { AuditWriter } from '../../src/services/audit/writer.ts';
import { CursorCodec } from '../../src/services/cursor.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { randomBytes } from 'node:crypto';

const log = createLogger({ level: 'silent' });
let db: TestDatabase;
let pool: Pool;
let audit: AuditWriter;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool({ connectionString: db.url, max: 8, log });
  audit = new AuditWriter({ repo: createAuditRepository(pool), uow: createUnitOfWork(pool, log), log });
});
afterAll(async () => {
  await audit.flush();
  await pool.end();
  await db.drop();
});

const teams = () => createTableRepository(pool, { table: 'teams', subject: 'team', columns: ['id', 'name'], constraints: {} });
const count = async (sql: string, params: unknown[] = []) => (await pool.query<{ n: number }>(sql, params)).rows[0]!.n;

describe('audited writes', () => {
  // atomicallyGrouped (group commit) runs concurrent writes in one transaction: a poisoned event
  // fails the whole group, which then runs each write alone, so the outcome must be the same.
  it.each(['atomically', 'atomicallyGrouped'] as const)(
    '%s: commit each write with its own event; a refused event fails only its own request, whose write rolls back',
    async (mode) => {
      await pool.query("DELETE FROM teams WHERE id LIKE 't-%'");
      const repo = teams();
      const create = (i: number, poisoned: boolean) =>
        audit[mode](async () => {
          const row = await repo.insert({ id: `t-${i}`, name: `team ${i}` });
          // PostgreSQL's jsonb refuses a lone surrogate: this event cannot be stored.
          await audit.record(undefined, {
            action: 'team_created',
            resourceType: 'team',
            resourceId: row.id,
            category: 'config',
            details: poisoned ? { note: '\ud800' } : {},
          });
          return row;
        });
      const outcomes = await Promise.allSettled(Array.from({ length: 65 }, (_, i) => create(i, i % 13 === 0)));
      const poisoned = new Set(Array.from({ length: 65 }, (_, i) => i).filter((i) => i % 13 === 0));
      outcomes.forEach((o, i) => expect(o.status, `request ${i}`).toBe(poisoned.has(i) ? 'rejected' : 'fulfilled'));
      await audit.flush();
      // 60 rows, 60 events, and not one row without its event or event without its row.
      const rounds = mode === 'atomically' ? 1 : 2;
      expect(await count('SELECT count(*)::int AS n FROM teams')).toBe(60);
      expect(await count(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'team_created'`)).toBe(60 * rounds);
      expect(
        await count(
          `SELECT count(*)::int AS n FROM teams t FULL JOIN (SELECT DISTINCT resource_id FROM audit_events WHERE action = 'team_created') e ON e.resource_id = t.id WHERE t.id IS NULL OR e.resource_id IS NULL`,
        ),
      ).toBe(0);
      expect(await count('SELECT count(*)::int AS n FROM audit_pending')).toBe(0);
      const verified = await new AuditLog(createAuditRepository(pool), new CursorCodec(randomBytes(32))).verify();
      expect(verified.ok).toBe(true);
    },
  );

  it('a write that fails takes its staged event with it', async () => {
    const repo = teams();
    await expect(
      audit.atomically(async () => {
        await audit.record(undefined, { action: 'team_created', resourceType: 'team', resourceId: 'dup', category: 'config' });
        await repo.insert({ id: 't-1', name: 'again' }); // duplicate id: the unit fails
      }),
    ).rejects.toThrow();
    await audit.flush();
    expect(await count(`SELECT count(*)::int AS n FROM audit_events WHERE resource_id = 'dup'`)).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM audit_pending WHERE resource_id = 'dup'`)).toBe(0);
  });

  it('events committed but never chained (the replica died in between) are chained by the next sweep', async () => {
    // Staged and committed by "another replica" that died before chaining.
    await createAuditRepository(pool).stage([
      {
        id: 'audit-orphan',
        actor: 'system',
        actorType: 'System',
        action: 'orphan',
        resourceType: 'x',
        resourceId: 'y',
        category: 'config',
        details: { a: [1, 'b'] },
        timestamp: new Date(),
      },
    ]);
    await audit.sweep();
    expect(await count(`SELECT count(*)::int AS n FROM audit_events WHERE id = 'audit-orphan'`)).toBe(1);
    expect((await new AuditLog(createAuditRepository(pool), new CursorCodec(randomBytes(32))).verify()).ok).toBe(true);
  });

  it('atomicallyGrouped commits writes that arrive together in shared transactions', async () => {
    const repo = teams();
    await Promise.all(Array.from({ length: 40 }, (_, i) => audit.atomicallyGrouped(() => repo.insert({ id: `g-${i}`, name: `grouped ${i}` }))));
    // xmin is the inserting transaction: 40 rows from far fewer transactions.
    const transactions = await count("SELECT count(DISTINCT xmin::text)::int AS n FROM teams WHERE id LIKE 'g-%'");
    expect(await count("SELECT count(*)::int AS n FROM teams WHERE id LIKE 'g-%'")).toBe(40);
    expect(transactions).toBeLessThan(10);
  });
});
