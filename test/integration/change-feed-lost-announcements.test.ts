/**
 * Lost announcements (migrations/0029): a unit of work that changed something and committed, but
 * whose announcement never went out (its writer died, or could not reach PostgreSQL), must not
 * leave other replicas' caches stale until the same bucket changes again. Each feed compares the
 * announcement numbers it heard with certfleet_change_seq and flushes when one stays unheard.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChangeFeed } from '../../src/db/change-feed.ts';
import { createPool, type Pool } from '../../src/db/pool.ts';
import { createUnitOfWork } from '../../src/db/unit-of-work.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { memoryLogger } from '../support/memory-log.ts';
import { untilTrue } from '../support/until.ts';

const checkMs = 100;
let db: TestDatabase;
let pool: Pool;
let writerFeed: ChangeFeed;
let reader: ChangeFeed;
const { log, lines } = memoryLogger();

/** A unit of work that changes `bucket`, committed by a writer that announces with `announce`. */
async function write(bucket: string, announce: (changed: readonly string[], n: number | undefined) => Promise<void>): Promise<void> {
  const uow = createUnitOfWork(pool, log, { afterEveryCommit: announce });
  await uow.run(async () => {
    await pool.query('SELECT certfleet_announce($1)', [bucket]);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool({ connectionString: db.url, max: 4, log });
  writerFeed = new ChangeFeed({ connectionString: db.url, log, checkMs, fallback: pool });
  reader = new ChangeFeed({ connectionString: db.url, log, checkMs });
  writerFeed.start();
  reader.start();
  await untilTrue('both change feeds to connect', () => writerFeed.healthy && reader.healthy, { timeoutMs: 10_000, intervalMs: 10 });
});
afterAll(async () => {
  await Promise.all([writerFeed?.stop(), reader?.stop()]);
  await pool?.end();
  await db?.drop();
});

describe('announcements that never arrive', () => {
  it('announced writes flush nothing', async () => {
    const before = reader.version(['certificates/Active']);
    const epoch = reader.version([]);
    await Promise.all(Array.from({ length: 200 }, () => write('certificates/Active', (changed, n) => writerFeed.announce(changed, n))));
    await reader.fresh();
    await sleep(4 * checkMs);
    expect(reader.version([])).toBe(epoch); // no flush: every number was heard
    expect(reader.version(['certificates/Active']) - before).toBeGreaterThan(0);
    expect([reader.missed, writerFeed.missed]).toEqual([0, 0]);
  });

  it('a write whose writer died before announcing moves every version within two check periods', async () => {
    const cached = reader.version(['certificates/Active']);
    const missedBefore = reader.missed;
    const committedAt = performance.now();
    await write('certificates/Active', async () => undefined); // committed; the announcement never leaves
    await untilTrue('the reader to notice', () => reader.version(['certificates/Active']) !== cached, { timeoutMs: 10 * checkMs, intervalMs: 5 });
    const after = performance.now() - committedAt;
    console.log(`an unannounced commit noticed after ${after.toFixed(0)} ms (check period ${checkMs} ms)`);
    expect(after).toBeLessThan(6 * checkMs);
    expect(reader.missed).toBe(missedBefore + 1);
    expect(lines.some((l) => l.includes('never announced'))).toBe(true);
    // Once noticed, it is accounted for: no further flushes.
    const settled = reader.version([]);
    await sleep(4 * checkMs);
    expect(reader.version([])).toBe(settled);
  });

  it('keeps checking after a check failed on a live connection', async () => {
    await pool.query('ALTER SEQUENCE certfleet_change_seq RENAME TO certfleet_change_seq_away');
    await sleep(3 * checkMs); // checks fail meanwhile; the feed's connection stays up
    await pool.query('ALTER SEQUENCE certfleet_change_seq_away RENAME TO certfleet_change_seq');
    expect(reader.healthy).toBe(true);
    expect(lines.some((l) => l.includes('cannot look for lost announcements'))).toBe(true);
    const cached = reader.version(['certificates/Active']);
    await write('certificates/Active', async () => undefined);
    await untilTrue('the reader to notice', () => reader.version(['certificates/Active']) !== cached, { timeoutMs: 10 * checkMs, intervalMs: 5 });
  });

  it('a writer whose feed is down announces through its pool: others hear at once, nothing flushed', async () => {
    const down = new ChangeFeed({ connectionString: db.url, log, checkMs, fallback: pool }); // never started
    expect(down.healthy).toBe(false);
    const epoch = reader.version([]);
    const before = reader.version(['profiles']);
    await write('profiles', (changed, n) => down.announce(changed, n));
    await reader.fresh();
    expect(reader.version(['profiles'])).toBe(before + 1);
    await sleep(4 * checkMs);
    expect(reader.version([])).toBe(epoch);
  });
});
