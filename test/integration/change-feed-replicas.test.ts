/**
 * Two replicas on one PostgreSQL, each caching certificate lists (issue 13): a write
 * acknowledged by replica A is seen by the next request on replica B. A acknowledges only once
 * its own change feed has heard the write's notification; B's backend may deliver its copy later,
 * so B's cache first makes one round trip on its feed (`ChangeFeed.fresh`), behind which every
 * pending notification arrives. test/integration/change-feed.test.ts shows B behind without it.
 * A write whose writer died between its COMMIT and its announcement reaches both replicas' lists
 * within two checks of the announcement numbers (migrations/0029).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { certificateBody, seedInventory, type Inventory } from '../support/fixtures.ts';
import { serve, type CertfleetProcess } from '../support/process.ts';
import { adminKey, testEncryptionKey } from '../support/server.ts';
import { untilChangeFeedUp, untilTrue } from '../support/until.ts';

let db: TestDatabase;
let inv: Inventory;
let a: CertfleetProcess & { url: string };
let b: CertfleetProcess & { url: string };
const headers = { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' };

beforeAll(async () => {
  db = await createTestDatabase();
  inv = await seedInventory(db.url);
  const env = { DATABASE_URL: db.url, CERTFLEET_ADMIN_API_KEY: adminKey, CERTFLEET_ENCRYPTION_KEY: testEncryptionKey, CERTFLEET_WORKER_THREADS: '1' };
  [a, b] = await Promise.all([serve(env), serve(env)]);
  for (const replica of [a, b]) await untilChangeFeedUp(replica.url);
});
afterAll(async () => {
  for (const p of [a, b]) p?.child.kill('SIGTERM');
  await Promise.all([a?.exited, b?.exited]);
  await db?.drop();
});

describe('two replicas, one PostgreSQL', () => {
  it('a write acknowledged on one replica is in the next list on the other, 100 times out of 100', async () => {
    const listOnB = async () =>
      ((await (await fetch(`${b.url}/api/v1/certificates?owner_id=${inv.ownerId}&per_page=1`, { headers })).json()) as { total: number }).total;
    let stale = 0;
    let total = await listOnB(); // cached on B from here on
    for (let i = 0; i < 100; i++) {
      const res = await fetch(`${a.url}/api/v1/certificates`, {
        method: 'POST',
        headers,
        body: JSON.stringify(certificateBody(inv, `replica-${inv.suffix}-${i}`)),
      });
      expect(res.status).toBe(201);
      const seen = await listOnB();
      if (seen !== total + 1) stale += 1;
      total = seen;
      // Between writes B serves its cached copy (hits), so every write really invalidates it.
      expect(await listOnB()).toBe(total);
    }
    expect(stale).toBe(0);
    expect(Number(/^certfleet_response_cache_hits_total (\d+)/m.exec(await (await fetch(`${b.url}/metrics`)).text())?.[1])).toBeGreaterThanOrEqual(100);
  });

  it("a write whose writer died before announcing it is in both replicas' lists within two check periods (about 2 s)", async () => {
    const listOn = async (url: string) =>
      (
        (await (await fetch(`${url}/api/v1/certificates?owner_id=${inv.ownerId}&sort=name&per_page=500`, { headers })).json()) as {
          data: Array<{ id: string; name: string }>;
        }
      ).data;
    const target = (await listOn(b.url))[0]!;
    await listOn(a.url); // both lists cached from here on
    // A writer's unit of work that takes its announcement number, commits, and dies before announcing.
    const writer = new pg.Client({ connectionString: db.url });
    await writer.connect();
    await writer.query("BEGIN; SET LOCAL certfleet.unit = 'on'");
    await writer.query('UPDATE certificates SET name = $2 WHERE id = $1', [target.id, `unannounced-${inv.suffix}`]);
    await writer.query("SELECT nextval('certfleet_change_seq'); COMMIT");
    const committedAt = performance.now();
    await writer.end();
    for (const url of [a.url, b.url]) {
      await untilTrue(`${url} lists the unannounced write`, async () => (await listOn(url)).some((c) => c.name === `unannounced-${inv.suffix}`), {
        timeoutMs: 3_000,
      });
    }
    console.log(`an unannounced write listed on both replicas after ${(performance.now() - committedAt).toFixed(0)} ms`);
    expect(Number(/^certfleet_change_feed_missed_total (\d+)/m.exec(await (await fetch(`${b.url}/metrics`)).text())?.[1])).toBeGreaterThanOrEqual(1);
  });
});
