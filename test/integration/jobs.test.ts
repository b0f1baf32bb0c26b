/**
 * Renewal requests and jobs: at most one open issuance/renewal per certificate even under
 * concurrent requests (a partial unique index), the CSR endpoint completes it, cancel only from
 * open states (restoring the certificate), list filters and keyset paging.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { certificateBody } from '../support/fixtures.ts';
import { useTestWorld } from '../support/world.ts';

const world = useTestWorld();

const post = (p: string, body?: unknown) =>
  world.server.request(p, { method: 'POST', ...(body ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}) });
const csr = () =>
  execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=x', '-keyout', '/dev/null'], {
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'ignore'],
  });

async function newCertificate(name: string) {
  return ((await (await post('/api/v1/certificates', certificateBody(world.inv, name))).json()) as { id: string }).id;
}

interface Job {
  id: string;
  type: string;
  status: string;
  certificate_id: string;
}

describe('renew', () => {
  it('enqueues one job, completes it on issuance, then renews', async () => {
    const id = await newCertificate(`renew-${world.inv.suffix}`);
    const res = await post(`/api/v1/certificates/${id}/renew`);
    expect(res.status).toBe(202);
    const body = (await res.json()) as { status: string; job_id: string; job: Job };
    expect(body).toMatchObject({ status: 'renewal_triggered', job: { type: 'Issuance', status: 'AwaitingCSR', certificate_id: id } });
    expect(((await (await world.server.request(`/api/v1/certificates/${id}`)).json()) as { status: string }).status).toBe('RenewalInProgress');
    expect((await post(`/api/v1/certificates/${id}/renew`)).status).toBe(409);

    expect((await post(`/api/v1/certificates/${id}/csr`, { csr_pem: csr() })).status).toBe(201);
    const done = (await (await world.server.request(`/api/v1/jobs/${body.job_id}`)).json()) as Job & { attempts: number; completed_at: string };
    expect(done).toMatchObject({ status: 'Completed', attempts: 1 });
    expect(((await (await world.server.request(`/api/v1/certificates/${id}`)).json()) as { status: string }).status).toBe('Active');

    const again = (await (await post(`/api/v1/certificates/${id}/renew`)).json()) as { job: Job };
    expect(again.job.type).toBe('Renewal');
  });

  it('creates exactly one job for concurrent identical requests', async () => {
    const id = await newCertificate(`race-${world.inv.suffix}`);
    const statuses = (await Promise.all(Array.from({ length: 12 }, () => post(`/api/v1/certificates/${id}/renew`)))).map((r) => r.status);
    expect(statuses.filter((s) => s === 202)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(11);
    const { rows } = await world.sql.query("SELECT count(*)::int AS n FROM jobs WHERE certificate_id = $1 AND status = 'AwaitingCSR'", [id]);
    expect(rows[0].n).toBe(1);
  });

  it('refuses archived and unknown certificates', async () => {
    const id = await newCertificate(`archived-${world.inv.suffix}`);
    await world.server.request(`/api/v1/certificates/${id}`, { method: 'DELETE' });
    expect((await post(`/api/v1/certificates/${id}/renew`)).status).toBe(409);
    expect((await post('/api/v1/certificates/cert-missing/renew')).status).toBe(404);
  });
});

describe('jobs API', () => {
  it('cancels only open jobs and hands the certificate back', async () => {
    const id = await newCertificate(`cancel-${world.inv.suffix}`);
    const { job } = (await (await post(`/api/v1/certificates/${id}/renew`)).json()) as { job: Job };
    const cancelled = await post(`/api/v1/jobs/${job.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(((await cancelled.json()) as Job).status).toBe('Cancelled');
    expect(((await (await world.server.request(`/api/v1/certificates/${id}`)).json()) as { status: string }).status).toBe('Pending');
    expect((await post(`/api/v1/jobs/${job.id}/cancel`)).status).toBe(409);
    expect((await post('/api/v1/jobs/job-missing/cancel')).status).toBe(404);
    expect((await post(`/api/v1/certificates/${id}/renew`)).status).toBe(202); // a cancelled job no longer blocks
  });

  it('filters and pages with a cursor', async () => {
    const ids = await Promise.all(Array.from({ length: 5 }, (_, i) => newCertificate(`page-${world.inv.suffix}-${i}`)));
    for (const id of ids) await post(`/api/v1/certificates/${id}/renew`);
    const mine = (await (await world.server.request(`/api/v1/jobs?certificate_id=${ids[0]}`)).json()) as { data: Job[] };
    expect(mine.data.map((j) => j.certificate_id)).toEqual([ids[0]]);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 20; i++) {
      const page = (await (await world.server.request(`/api/v1/jobs?status=AwaitingCSR&per_page=2${cursor ? `&cursor=${cursor}` : ''}`)).json()) as {
        data: Job[];
        next_cursor?: string;
      };
      seen.push(...page.data.map((j) => j.id));
      if (!page.next_cursor) break;
      cursor = page.next_cursor;
    }
    const { rows } = await world.sql.query("SELECT id FROM jobs WHERE status = 'AwaitingCSR' ORDER BY id");
    expect(seen).toEqual(rows.map((r: { id: string }) => r.id));
    expect((await world.server.request('/api/v1/jobs?status=Bogus')).status).toBe(400);
    expect((await world.server.request(`/api/v1/jobs?status=Completed&cursor=${cursor ?? 'x'}`)).status).toBe(400);
  });
});
