/**
 * Bulk renewal: criteria resolved set-based with no row cap; Archived, Revoked, Expired and
 * RenewalInProgress certificates (those with an open job) skipped; one job per certificate even when identical requests
 * race (100,000 seeded certificates, two requests at once).
 */
import { describe, expect, it } from 'vitest';
import { inProgressCondition } from '../../src/db/open-jobs.ts';
import { runSeed } from '../../loadtest/driver/seed.ts';
import { certificateBody, seedInventory, withClient } from '../support/fixtures.ts';
import { useTestWorld } from '../support/world.ts';

const json = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const bulkRenew = async (body: unknown) => {
  const res = await world.server.request('/api/v1/certificates/bulk-renew', json(body));
  return { status: res.status, body: (await res.json()) as Record<string, number | string> };
};

const world = useTestWorld();

describe('POST /api/v1/certificates/bulk-renew', () => {
  it('needs a criterion', async () => {
    const { status, body } = await bulkRenew({});
    expect(status).toBe(400);
    expect(body.message).toMatch(/at least one criterion/);
  });

  it('enqueues renewable certificates once and skips the rest', async () => {
    const create = async (name: string) =>
      ((await (await world.server.request('/api/v1/certificates', json(certificateBody(world.inv, `${name}-${world.inv.suffix}`)))).json()) as { id: string })
        .id;
    const [a, b, archived, revoked, expired] = [await create('a'), await create('b'), await create('arch'), await create('rev'), await create('exp')];
    await world.server.request(`/api/v1/certificates/${archived}`, { method: 'DELETE' });
    await world.server.request(`/api/v1/certificates/${revoked}/revoke`, json({}));
    await withClient(world.server.db.url, (c) => c.query("UPDATE certificates SET status = 'Expired' WHERE id = $1", [expired]));

    expect((await bulkRenew({ team_id: world.inv.teamId })).body).toEqual({ total_matched: 5, total_enqueued: 2, total_skipped: 3, total_failed: 0 });
    expect((await bulkRenew({ team_id: world.inv.teamId })).body).toMatchObject({ total_matched: 5, total_enqueued: 0 }); // open jobs
    const jobs = (await (await world.server.request(`/api/v1/jobs?status=AwaitingCSR&per_page=500`)).json()) as {
      data: Array<{ certificate_id: string; type: string }>;
    };
    expect(jobs.data.filter((j) => [a, b].includes(j.certificate_id)).map((j) => j.type)).toEqual(['Issuance', 'Issuance']);
    for (const id of [a, b])
      expect(((await (await world.server.request(`/api/v1/certificates/${id}`)).json()) as { status: string }).status).toBe('RenewalInProgress');
    // certificate_ids narrows the other criteria; nothing matches an unknown id.
    expect((await bulkRenew({ team_id: world.inv.teamId, certificate_ids: [a, 'nope'] })).body).toMatchObject({ total_matched: 1, total_enqueued: 0 });
    const audit = (await (await world.server.request('/api/v1/audit?action=bulk_renewal_initiated')).json()) as {
      data: Array<{ details: { total_enqueued: number } }>;
    };
    expect(audit.data.map((e) => e.details.total_enqueued).sort()).toEqual([0, 0, 2]);
  });

  it('bulk-reassign: new owner and team for the listed certificates, skipping archived and unchanged ones', async () => {
    const other = await seedInventory(world.server.db.url);
    const create = async (name: string) =>
      ((await (await world.server.request('/api/v1/certificates', json(certificateBody(world.inv, `${name}-${world.inv.suffix}`)))).json()) as { id: string })
        .id;
    const [x, y, gone] = [await create('rx'), await create('ry'), await create('rgone')];
    await world.server.request(`/api/v1/certificates/${gone}`, { method: 'DELETE' });
    const reassign = async (body: unknown) => {
      const res = await world.server.request('/api/v1/certificates/bulk-reassign', json(body));
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const body = { certificate_ids: [x, y, gone, 'missing'], owner_id: other.ownerId, team_id: other.teamId };
    expect((await reassign(body)).body).toEqual({ total_matched: 3, total_reassigned: 2, total_skipped: 1, total_failed: 0 });
    expect((await reassign(body)).body).toMatchObject({ total_reassigned: 0, total_skipped: 3 });
    const cert = (await (await world.server.request(`/api/v1/certificates/${x}`)).json()) as { owner_id: string; team_id: string };
    expect(cert).toMatchObject({ owner_id: other.ownerId, team_id: other.teamId });
    const unknown = await reassign({ certificate_ids: [x], owner_id: 'nobody' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toMatch(/owner_id/);
    expect((await reassign({ certificate_ids: [], owner_id: other.ownerId })).status).toBe(400);
  });

  it('creates 100,000 jobs exactly once when two identical requests race', async () => {
    await runSeed(world.server.db.url, 'certificates.sql', 100_000, 'bulk');
    const started = performance.now();
    const [first, second] = await Promise.all([bulkRenew({ issuer_id: 'load-issuer' }), bulkRenew({ issuer_id: 'load-issuer' })]);
    const ms = performance.now() - started;
    expect([first.status, second.status]).toEqual([200, 200]);
    expect((first.body.total_enqueued as number) + (second.body.total_enqueued as number)).toBe(100_000);
    expect(first.body.total_matched).toBe(100_000);
    const counts = await withClient(
      world.server.db.url,
      async (c) =>
        (
          await c.query(
            `SELECT count(*)::int AS jobs, count(DISTINCT certificate_id)::int AS certs,
              (SELECT count(*)::int FROM certificates c WHERE issuer_id = 'load-issuer' AND ${inProgressCondition}) AS marked
         FROM jobs j JOIN certificates c ON c.id = j.certificate_id WHERE c.issuer_id = 'load-issuer'`,
          )
        ).rows[0] as { jobs: number; certs: number; marked: number },
    );
    expect(counts).toEqual({ jobs: 100_000, certs: 100_000, marked: 100_000 });
    console.log(`bulk-renew: 100,000 certificates, two racing requests answered in ${Math.round(ms)} ms`);
  }, 120_000);
});
