/**
 * A keyset walk over 10,000 certificates returns each exactly once while another client keeps
 * inserting certificates whose names sort in between (so new rows land all over the walk).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { certificateBody } from '../support/fixtures.ts';
import { useTestWorld } from '../support/world.ts';

const seeded = 10_000;

const world = useTestWorld();

beforeAll(async () => {
  // Names walk-00000 .. walk-09999, created a millisecond apart.
  await world.sql.query(
    `INSERT INTO certificates (id, name, common_name, owner_id, team_id, issuer_id, renewal_policy_id, created_at)
     SELECT 'walk-' || lpad(g::text, 5, '0'), 'walk-' || lpad(g::text, 5, '0'), 'walk' || g || '.example.test',
            $1, $2, $3, $4, now() - interval '1 hour' + g * interval '1 millisecond'
       FROM generate_series(0, $5 - 1) AS g`,
    [world.inv.ownerId, world.inv.teamId, world.inv.issuerId, world.inv.policyId, seeded],
  );
}, 60_000);

async function walk(sort: string): Promise<string[]> {
  const seen: string[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 100; pages++) {
    const q = `owner_id=${world.inv.ownerId}&per_page=250&sort=${sort}&include_total=false${cursor ? `&cursor=${cursor}` : ''}`;
    const res = await world.server.request(`/api/v1/certificates?${q}&fields=id`);
    expect(res.status).toBe(200);
    const page = (await res.json()) as { data: Array<{ id: string }>; next_cursor?: string };
    seen.push(...page.data.map((c) => c.id));
    if (!page.next_cursor) return seen;
    cursor = page.next_cursor;
  }
  throw new Error('walk did not end within 100 pages');
}

describe('cursor walk during concurrent inserts', () => {
  it.each(['name', 'created_at', '-created_at'])('sort=%s returns every seeded certificate exactly once', async (sort) => {
    let inserting = true;
    let inserted = 0;
    const writer = (async () => {
      // Bounded: at most 400 inserts, and only while the walk runs.
      for (let i = 0; inserting && i < 400; i++) {
        const name = `walk-${String((i * 37) % seeded).padStart(5, '0')}-new-${sort}-${i}`;
        const res = await world.server.request('/api/v1/certificates', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(certificateBody(world.inv, name)),
        });
        expect(res.status).toBe(201);
        inserted++;
      }
    })();
    const seen = await walk(sort);
    inserting = false;
    await writer;

    expect(inserted).toBeGreaterThan(0);
    expect(new Set(seen).size).toBe(seen.length); // no duplicates at all
    const seededSeen = seen.filter((id) => /^walk-\d{5}$/.test(id));
    expect(seededSeen.length).toBe(seeded); // no gaps: every pre-existing row, once
  });
});
