/**
 * The change feed's cross-replica promise, on two feeds in one process (two LISTEN connections,
 * as two replicas have): once A's announcement of a write has come back, B can still be behind;
 * after `B.fresh()` it never is.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChangeFeed } from '../../src/db/change-feed.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { memoryLogger } from '../support/memory-log.ts';
import { untilTrue } from '../support/until.ts';

let db: TestDatabase;
let a: ChangeFeed;
let b: ChangeFeed;

beforeAll(async () => {
  db = await createTestDatabase();
  a = new ChangeFeed({ connectionString: db.url, log: memoryLogger().log });
  b = new ChangeFeed({ connectionString: db.url, log: memoryLogger().log });
  a.start();
  b.start();
  await untilTrue('both change feeds to connect', () => a.healthy && b.healthy, { timeoutMs: 10_000, intervalMs: 10 });
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await db?.drop();
});

describe('ChangeFeed.fresh', () => {
  it('reflects every change another feed has had acknowledged before the call', async () => {
    // version([]) is the epoch part alone, so the difference counts the bucket's changes.
    const changesSeenByB = () => b.version(['bucket']) - b.version([]);
    let behindWithout = 0;
    for (let i = 1; i <= 200; i++) {
      await a.announce(['bucket']);
      if (changesSeenByB() < i) behindWithout += 1;
      await b.fresh();
      expect(changesSeenByB()).toBe(i);
    }
    // Not a promise, just evidence that the barrier is doing work: B was caught behind at times.
    console.log(`B behind A without fresh(): ${behindWithout} of 200`);
  });

  it('shares one round trip between callers arriving together, and resolves when the feed is down', async () => {
    await Promise.all(Array.from({ length: 1000 }, () => b.fresh()));
    const down = new ChangeFeed({ connectionString: db.url, log: memoryLogger().log });
    await down.fresh(); // never started: resolves at once
    expect(down.healthy).toBe(false);
  });

  it('hands subscribed buckets to their subscriber, even more than one notification holds', async () => {
    const seen = new Set<string>();
    b.subscribe('row', { changed: (id) => seen.add(id), reset: () => seen.clear() });
    // 2,000 row ids are ~20 KB of buckets: PostgreSQL refuses payloads over 8,000 bytes.
    const ids = Array.from({ length: 2000 }, (_, i) => `ak_${String(i).padStart(20, '0')}`);
    await a.announce(ids.map((id) => `row/${id}`));
    await b.fresh();
    expect(seen.size).toBe(2000);
    expect(b.version(['row/ak_00000000000000000001'])).toBe(b.version([])); // not kept as versions
  });
});
