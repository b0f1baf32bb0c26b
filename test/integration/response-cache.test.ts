/**
 * The certificate list's response cache (issue 13): repeated lists and If-None-Match
 * revalidations are answered without the database while the data they depend on is unchanged,
 * a write invalidates exactly the lists it changes, and a client reads its own write at once.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { certificateBody, withClient } from '../support/fixtures.ts';
import { untilChangeFeedUp, untilTrue } from '../support/until.ts';
import { useTestWorld } from '../support/world.ts';

const json = { 'content-type': 'application/json' };

const world = useTestWorld();

beforeAll(async () => {
  for (let i = 0; i < 5; i++) {
    await world.server.request('/api/v1/certificates', {
      method: 'POST',
      headers: json,
      body: JSON.stringify(certificateBody(world.inv, `cache-${world.inv.suffix}-${i}`)),
    });
  }
  await withClient(world.server.db.url, (c) => c.query(`UPDATE certificates SET status = 'Active', expires_at = now() + interval '90 days'`));
  // The change feed connects in the background: wait until caching is on.
  await untilChangeFeedUp(world.server.url);
});

const metric = async (name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(await (await fetch(`${world.server.url}/metrics`)).text())?.[1]);
const list = (query: string, headers: Record<string, string> = {}) => world.server.request(`/api/v1/certificates?${query}`, { headers });

describe('certificate list response cache', () => {
  it('answers repeated lists and revalidations from the cache, computing none', async () => {
    const first = await list('status=Active&sort=expires_at');
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag')!;
    const body = await first.text();
    const hitsBefore = await metric('certfleet_response_cache_hits_total');
    const missesBefore = await metric('certfleet_response_cache_misses_total');
    for (let i = 0; i < 50; i++) {
      const res = await list('status=Active&sort=expires_at', { 'if-none-match': etag });
      expect(res.status).toBe(304);
      await res.arrayBuffer();
      const again = await list('status=Active&sort=expires_at');
      expect(await again.text()).toBe(body);
    }
    // No list was computed (no list query ran): every answer came from the cache. Counting the
    // database's commits instead was flaky: each lookup's freshness barrier (an empty query on the
    // LISTEN connection, src/db/change-feed.ts) counts as a transaction in pg_stat_database
    // whenever that backend happens to flush its statistics inside the window.
    expect((await metric('certfleet_response_cache_misses_total')) - missesBefore).toBe(0);
    expect((await metric('certfleet_response_cache_hits_total')) - hitsBefore).toBeGreaterThanOrEqual(100);
  });

  it('keeps an Active list cached across a Pending create, but not the unfiltered list', async () => {
    const active = await list('status=Active');
    const all = (await (await list('per_page=1')).json()) as { total: number };
    const hits = await metric('certfleet_response_cache_hits_total');
    const created = await world.server.request('/api/v1/certificates', {
      method: 'POST',
      headers: json,
      body: JSON.stringify(certificateBody(world.inv, `cache-new-${world.inv.suffix}`)),
    });
    expect(created.status).toBe(201);
    // The write was acknowledged: the unfiltered total already shows it ...
    expect(((await (await list('per_page=1')).json()) as { total: number }).total).toBe(all.total + 1);
    // ... while the Active list (another bucket) is still served from the cache.
    const again = await list('status=Active', { 'if-none-match': active.headers.get('etag')! });
    expect(again.status).toBe(304);
    expect((await metric('certfleet_response_cache_hits_total')) - hits).toBeGreaterThanOrEqual(1);
  });

  it('shows a write to the lists it changes at once (read your writes)', async () => {
    const before = (await (await list('status=Active&per_page=100')).json()) as { data: Array<{ id: string }> };
    const victim = before.data[0]!.id;
    const etag = (await list('status=Active&per_page=100')).headers.get('etag')!;
    // A renewal makes it RenewalInProgress: gone from the Active list, in the in-progress one.
    expect((await world.server.request(`/api/v1/certificates/${victim}/renew`, { method: 'POST', headers: json, body: '{}' })).status).toBe(202);
    const after = await list('status=Active&per_page=100', { 'if-none-match': etag });
    expect(after.status).toBe(200);
    expect(((await after.json()) as { data: Array<{ id: string }> }).data.map((c) => c.id)).not.toContain(victim);
    const inProgress = (await (await list('status=RenewalInProgress')).json()) as { data: Array<{ id: string }> };
    expect(inProgress.data.map((c) => c.id)).toContain(victim);
    // And a change made behind the API's back (another replica, a migration) arrives through NOTIFY.
    const target = before.data[1]!.id;
    await withClient(world.server.db.url, (c) => c.query(`UPDATE certificates SET status = 'Expired' WHERE id = $1`, [target]));
    await untilTrue(
      'the Active list to drop the certificate changed in SQL',
      async () => !((await (await list('status=Active&per_page=100')).json()) as { data: Array<{ id: string }> }).data.some((c) => c.id === target),
      { timeoutMs: 2_000, intervalMs: 20 },
    );
  });
});
