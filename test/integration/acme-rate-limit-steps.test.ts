/**
 * ACME rate-limit steps taken in batches (migration 0027, src/db/acme-server.ts): concurrent
 * requests share one call, steps of one bucket are taken together and admitted in arrival
 * order, and two replicas (two pools) racing on one bucket still admit exactly its burst.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAcmeServerRepository, type AcmeServerRepository } from '../../src/db/acme-server.ts';
import { createPool, type Pool } from '../../src/db/pool.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const log = createLogger({ level: 'silent' });
const hourMs = 3_600_000;
let db: TestDatabase;
let pools: Pool[];
let replicas: AcmeServerRepository[];

beforeAll(async () => {
  db = await createTestDatabase();
  pools = [createPool({ connectionString: db.url, max: 4, log }), createPool({ connectionString: db.url, max: 4, log })];
  replicas = pools.map((pool) => createAcmeServerRepository(pool));
});
afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end()));
  await db.drop();
});

const step = (repo: AcmeServerRepository, key: string, perHour: number) => repo.rateLimit('newOrdersPerAccount', key, hourMs / perHour, hourMs);
const admittedOf = (results: Array<{ admitted: boolean }>) => results.map((r) => (r.admitted ? 1 : 0)).join('');

describe('batched rate-limit steps', () => {
  it('admits exactly the burst of one bucket, in arrival order, and says when the next would pass', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => step(replicas[0]!, 'acct-burst', 7)));
    // Arrival order within a batch: the first seven callers, however the batches fell.
    expect(admittedOf(results)).toBe('1'.repeat(7) + '0'.repeat(13));
    for (const r of results.slice(7)) {
      expect(r.admitted).toBe(false);
      if (!r.admitted) expect(r.retryAfterSeconds).toBeGreaterThanOrEqual(Math.floor(hourMs / 7 / 1000) - 2);
      if (!r.admitted) expect(r.retryAfterSeconds).toBeLessThanOrEqual(Math.ceil(hourMs / 7 / 1000));
    }
  });

  it('keeps buckets of one batch apart, whatever their limits', async () => {
    const keys = ['acct-a', 'acct-b', 'acct-c'];
    const limits = [3, 5, 1];
    const calls = Array.from({ length: 30 }, (_, i) => ({ key: keys[i % 3]!, limit: limits[i % 3]! }));
    const results = await Promise.all(calls.map((c) => step(replicas[0]!, c.key, c.limit)));
    for (const [n, key] of keys.entries()) expect(results.filter((r, i) => calls[i]!.key === key && r.admitted)).toHaveLength(limits[n]!);
  });

  it('admits one again once the bucket refilled by an interval', async () => {
    expect((await step(replicas[0]!, 'acct-refill', 2)).admitted).toBe(true);
    expect((await step(replicas[0]!, 'acct-refill', 2)).admitted).toBe(true);
    expect((await step(replicas[0]!, 'acct-refill', 2)).admitted).toBe(false);
    await pools[0]!.query("UPDATE acme_rate_limits SET tat = tat - interval '30 minutes' WHERE key = 'acct-refill'");
    expect((await step(replicas[0]!, 'acct-refill', 2)).admitted).toBe(true);
    expect((await step(replicas[0]!, 'acct-refill', 2)).admitted).toBe(false);
  });

  it('admits exactly the burst across two replicas racing on a new bucket', async () => {
    for (let trial = 0; trial < 5; trial++) {
      const key = `acct-race-${trial}`;
      const results = await Promise.all(Array.from({ length: 24 }, (_, i) => step(replicas[i % 2]!, key, 9)));
      expect(results.filter((r) => r.admitted)).toHaveLength(9);
    }
  });
});
