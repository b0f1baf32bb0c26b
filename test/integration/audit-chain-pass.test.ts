/**
 * The audit chainer's passes (src/db/audit.ts chainPending, src/services/audit/writer.ts): two
 * round trips a pass with the chained events sent as escaped literals, so any text an event
 * carries must come back byte for byte and verify; and under a stream of commits, passes start at
 * most every minPassIntervalMs, while readers and flush never wait for that.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAuditRepository, type AuditRepository } from '../../src/db/audit.ts';
import { createPool, type Pool } from '../../src/db/pool.ts';
import { createUnitOfWork } from '../../src/db/unit-of-work.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { AuditLog } from '../../src/services/audit/audit-log.ts';
import { AuditWriter } from '../../src/services/audit/writer.ts';
import { CursorCodec } from '../../src/services/cursor.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const log = createLogger({ level: 'silent' });
let db: TestDatabase;
let pool: Pool;
let repo: AuditRepository;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool({ connectionString: db.url, max: 4, log });
  repo = createAuditRepository(pool);
});
afterAll(async () => {
  await pool.end();
  await db.drop();
});

const writer = (minPassIntervalMs: number) => new AuditWriter({ repo, uow: createUnitOfWork(pool, log), log, minPassIntervalMs });
const verify = (audit: AuditWriter) => new AuditLog(repo, new CursorCodec(Buffer.alloc(32, 7)), undefined, () => audit.caughtUp()).verify();
const record = (audit: AuditWriter, id: string, details: Record<string, unknown> = {}) =>
  audit.atomically(() => audit.record(undefined, { action: 'team_created', resourceType: 'team', resourceId: id, category: 'config', details }));

describe('audit chain passes', () => {
  it('chains any text as it was recorded, and the chain verifies', async () => {
    const audit = writer(0);
    const texts = ["it's", 'back\\slash \\x00 \\n', '$$ $tag$ ;-- DROP TABLE audit_events', 'line\nbreak\ttab\r', 'é ✓ 𝄞 \u2028', '"quoted" {}[]', "E'\\'"];
    await Promise.all(texts.map((text, i) => record(audit, `hostile-${i}`, { text, nested: { list: [text, i, null, true] } })));
    await audit.flush();
    const { rows } = await pool.query<{ resource_id: string; details: { text: string; nested: unknown } }>(
      "SELECT resource_id, details FROM audit_events WHERE resource_id LIKE 'hostile-%'",
    );
    expect(rows).toHaveLength(texts.length);
    for (const row of rows) {
      const i = Number(row.resource_id.slice('hostile-'.length));
      expect(row.details).toEqual({ text: texts[i], nested: { list: [texts[i], i, null, true] } });
    }
    const result = await verify(audit);
    expect(result).toMatchObject({ ok: true, pending: 0 });
  });

  it('sends a pass as two round trips', async () => {
    const audit = writer(0);
    await record(audit, 'round-trips');
    const sent: string[] = [];
    const query = pg.Client.prototype.query;
    vi.spyOn(pg.Client.prototype, 'query').mockImplementation(function (this: pg.Client, ...args: unknown[]) {
      const first = args[0] as string | { text?: string };
      sent.push(typeof first === 'string' ? first : (first?.text ?? ''));
      return (query as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof query);
    try {
      await audit.flush();
      await repo.chainPending(500, () => 'x'.repeat(64)); // nothing left: the lock, then COMMIT
    } finally {
      vi.restoreAllMocks();
    }
    expect(sent).toHaveLength(4);
    expect(sent[0]).toMatch(/^BEGIN;[\s\S]*FOR UPDATE;[\s\S]*DELETE FROM audit_pending/);
    expect(sent[1]).toMatch(/^INSERT INTO audit_events[\s\S]*UPDATE audit_chain_head[\s\S]*COMMIT$/);
    expect(sent[3]).toBe('COMMIT');
  });

  it('under a stream of commits starts a pass at most every interval; readers do not wait for it', async () => {
    const audit = writer(200);
    await audit.flush();
    const before = audit.batches;
    const started = performance.now();
    for (let i = 0; i < 30; i++) await record(audit, `stream-${i}`);
    const elapsed = performance.now() - started;
    // A reader right after the last commit sees every event: it does not wait out the interval.
    const result = await verify(audit);
    expect(result).toMatchObject({ ok: true, pending: 0 });
    const passes = audit.batches - before;
    // One pass per commit before; now one at once and one per started 200 ms, plus the reader's.
    expect(passes).toBeLessThanOrEqual(Math.ceil(elapsed / 200) + 2);
    expect(passes).toBeLessThan(30);
  });
});
