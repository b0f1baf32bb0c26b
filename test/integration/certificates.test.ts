/**
 * Certificates over HTTP: validation naming fields and foreign keys, target mappings,
 * partial updates (renewal_policy_id and target_ids included), archive, versions, deployments,
 * list filters, sorts, projection, paging and cursors.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { certificateBody, seedInventory, type Inventory } from '../support/fixtures.ts';
import { useTestWorld } from '../support/world.ts';

const world = useTestWorld();

const send = (method: string, path: string, body: unknown) =>
  world.server.request(path, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function create(name: string, extra: Record<string, unknown> = {}) {
  const res = await send('POST', '/api/v1/certificates', certificateBody(world.inv, name, extra));
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as Record<string, unknown> & { id: string };
}

async function list(query: string) {
  const res = await world.server.request(`/api/v1/certificates?${query}`);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as { data: Array<Record<string, unknown>>; total: number | null; next_cursor?: string; page?: number };
}

describe('create and validate', () => {
  it('creates a Pending certificate with its target mapping', async () => {
    const cert = await create('svc-create', {
      sans: ['svc-create.example.test', '10.1.2.3', '2001:db8::1', 'ops@example.test'],
      target_ids: [world.inv.targetId],
      tags: { app: 'svc' },
      environment: 'production',
    });
    expect(cert).toMatchObject({ status: 'Pending', expires_at: null, target_ids: [world.inv.targetId], source: 'API', tags: { app: 'svc' } });
    const deployments = (await (await world.server.request(`/api/v1/certificates/${cert.id}/deployments`)).json()) as {
      data: Array<{ id: string }>;
      total: number;
    };
    expect(deployments).toMatchObject({ total: 1, data: [{ id: world.inv.targetId }] });
    const rows = await world.sql.query('SELECT target_id FROM certificate_target_mappings WHERE certificate_id = $1', [cert.id]);
    expect(rows.rows).toEqual([{ target_id: world.inv.targetId }]);
  });

  it.each([
    [{ common_name: 'bad name!' }, 'common_name'],
    [{ common_name: '' }, 'common_name'],
    [{ sans: ['ok.example.test', 'not valid'] }, 'sans.1'],
    [{ sans: ['a.example.test', 'A.example.test'] }, 'sans'],
    [{ name: '' }, 'name'],
    [{ environment: 'prod env' }, 'environment'],
    [{ owner_id: 'owner-missing' }, 'owner_id'],
    [{ team_id: 'team-missing' }, 'team_id'],
    [{ issuer_id: 'iss-missing' }, 'issuer_id'],
    [{ renewal_policy_id: 'rp-missing' }, 'renewal_policy_id'],
    [{ certificate_profile_id: 'prof-missing' }, 'certificate_profile_id'],
    [{ target_ids: ['target-missing'] }, 'target_ids'],
    [{ status: 'Active' }, 'status'],
  ])('400 for %j naming %s', async (extra, field) => {
    const res = await send('POST', '/api/v1/certificates', certificateBody(world.inv, `bad-${field}`, extra));
    expect(res.status).toBe(400);
    const { message } = (await res.json()) as { message: string };
    expect(message.startsWith(`${field}:`) || message.includes(`"${field}"`), message).toBe(true);
  });

  it('400 when a required reference is missing, 409 on a duplicate name', async () => {
    const { renewal_policy_id: _, ...withoutPolicy } = certificateBody(world.inv, 'no-policy');
    const missing = await send('POST', '/api/v1/certificates', withoutPolicy);
    expect(((await missing.json()) as { message: string }).message).toMatch(/^renewal_policy_id:/);
    await create('dup-name');
    expect((await send('POST', '/api/v1/certificates', certificateBody(world.inv, 'dup-name'))).status).toBe(409);
  });

  // Creates that arrive together are inserted by one statement per group and committed with
  // their audit events (CertificateService.create); the answers must be what lone creates get.
  const createdTogether = async (prefix: string, bodies: Array<Record<string, unknown>>) => {
    const responses = await Promise.all(bodies.map((body) => send('POST', '/api/v1/certificates', body)));
    const answers = await Promise.all(responses.map(async (res) => ({ status: res.status, body: (await res.json()) as Record<string, unknown> })));
    const stored = await world.sql.query<{ n: number; transactions: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT xmin::text)::int AS transactions FROM certificates WHERE name LIKE $1`,
      [`${prefix}%`],
    );
    const events = await world.sql.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (SELECT resource_id FROM audit_events UNION ALL SELECT resource_id FROM audit_pending) e
        JOIN certificates c ON c.id = e.resource_id WHERE c.name LIKE $1`,
      [`${prefix}%`],
    );
    return { answers, stored: stored.rows[0]!, events: events.rows[0]!.n };
  };

  it('stores creates arriving together in shared transactions, each as a lone create would be', async () => {
    const prefix = `together-${world.inv.suffix}-`;
    const bodies = Array.from({ length: 60 }, (_, i) =>
      certificateBody(world.inv, `${prefix}${i}`, {
        ...(i % 2 ? { sans: [`s${i}.example.test`], tags: { n: String(i) }, target_ids: [world.inv.targetId] } : {}),
        ...(i % 3 ? {} : { environment: 'staging', certificate_profile_id: world.inv.profileId }),
      }),
    );
    const { answers, stored, events } = await createdTogether(prefix, bodies);
    expect(answers.map((a) => a.status)).toEqual(bodies.map(() => 201));
    for (const [i, { body }] of answers.entries()) {
      expect(body).toMatchObject({ name: `${prefix}${i}`, status: 'Pending', target_ids: i % 2 ? [world.inv.targetId] : [] });
      expect(body.sans).toEqual(i % 2 ? [`s${i}.example.test`] : []);
      expect(body.tags).toEqual(i % 2 ? { n: String(i) } : {});
      expect(body.environment).toBe(i % 3 ? '' : 'staging');
      expect(await (await world.server.request(`/api/v1/certificates/${String(body.id)}`)).json()).toEqual(body);
    }
    expect(stored.n).toBe(60);
    expect(stored.transactions).toBeLessThan(30); // grouped
    expect(events).toBe(60); // one audit event each, committed with it
  });

  it('answers a bad create among creates arriving together on its own; the others are stored', async () => {
    const prefix = `mixed-${world.inv.suffix}-`;
    const bodies: Array<Record<string, unknown>> = Array.from({ length: 30 }, (_, i) => certificateBody(world.inv, `${prefix}${i}`));
    bodies[7] = certificateBody(world.inv, `${prefix}7`, { owner_id: 'owner-missing' });
    bodies[21] = certificateBody(world.inv, `${prefix}3`); // the same name as 3: one of the two wins
    const { answers, stored, events } = await createdTogether(prefix, bodies);
    expect(answers[7]).toMatchObject({ status: 400, body: { message: expect.stringMatching(/^owner_id:/) } });
    expect([answers[3]!.status, answers[21]!.status].sort()).toEqual([201, 409]);
    expect(answers.filter((a) => a.status === 201)).toHaveLength(28);
    expect(stored.n).toBe(28);
    expect(events).toBe(28);
  });
});

describe('update, archive, versions', () => {
  it('updates any field, including renewal_policy_id and the target mapping', async () => {
    const cert = await create('svc-update', { target_ids: [world.inv.targetId] });
    const other = await seedInventory(world.server.db.url);
    const res = await send('PATCH', `/api/v1/certificates/${cert.id}`, {
      renewal_policy_id: other.policyId,
      owner_id: other.ownerId,
      sans: ['svc-update.example.test'],
      certificate_profile_id: other.profileId,
      target_ids: [other.targetId],
      tags: { tier: 'gold' },
    });
    expect(res.status).toBe(200);
    const updated = (await res.json()) as Record<string, unknown>;
    expect(updated).toMatchObject({
      renewal_policy_id: other.policyId,
      owner_id: other.ownerId,
      certificate_profile_id: other.profileId,
      target_ids: [other.targetId],
      tags: { tier: 'gold' },
      common_name: 'svc-update.example.test',
    });
    expect(new Date(String(updated.updated_at)).getTime()).toBeGreaterThan(new Date(String(cert.updated_at)).getTime());
    const stored = await world.sql.query('SELECT renewal_policy_id FROM certificates WHERE id = $1', [cert.id]);
    expect(stored.rows[0].renewal_policy_id).toBe(other.policyId);

    const cleared = (await (await send('PUT', `/api/v1/certificates/${cert.id}`, { certificate_profile_id: null, target_ids: [] })).json()) as Record<
      string,
      unknown
    >;
    expect(cleared).toMatchObject({ certificate_profile_id: null, target_ids: [] });
    expect((await send('PATCH', `/api/v1/certificates/${cert.id}`, { renewal_policy_id: 'rp-missing' })).status).toBe(400);
    expect((await send('PATCH', '/api/v1/certificates/cert-missing', { tags: {} })).status).toBe(404);
  });

  it('archives on DELETE (204, idempotent) and refuses later changes', async () => {
    const cert = await create('svc-archive');
    expect((await world.server.request(`/api/v1/certificates/${cert.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await world.server.request(`/api/v1/certificates/${cert.id}`, { method: 'DELETE' })).status).toBe(204);
    const got = (await (await world.server.request(`/api/v1/certificates/${cert.id}`)).json()) as { status: string };
    expect(got.status).toBe('Archived');
    expect((await send('PATCH', `/api/v1/certificates/${cert.id}`, { tags: { a: 'b' } })).status).toBe(409);
    expect((await world.server.request('/api/v1/certificates/cert-missing', { method: 'DELETE' })).status).toBe(404);
  });

  it('lists versions newest first', async () => {
    const cert = await create('svc-versions');
    const empty = (await (await world.server.request(`/api/v1/certificates/${cert.id}/versions`)).json()) as { data: unknown[]; total: number };
    expect(empty).toMatchObject({ data: [], total: 0 });
    for (const [i, fp] of ['aa', 'bb'].entries()) {
      await world.sql.query(
        `INSERT INTO certificate_versions (id, certificate_id, serial_number, not_before, not_after, fingerprint_sha256, pem_chain, created_at)
         VALUES ($1, $2, $3, now(), now() + interval '90 days', $4, 'PEM', now() + $5 * interval '1 second')`,
        [`${cert.id}-v${i}`, cert.id, `0${i}`, `${fp}-${cert.id}`, i],
      );
    }
    const versions = (await (await world.server.request(`/api/v1/certificates/${cert.id}/versions`)).json()) as {
      data: Array<{ id: string; serial_number: string }>;
      total: number;
    };
    expect(versions.total).toBe(2);
    expect(versions.data.map((v) => v.id)).toEqual([`${cert.id}-v1`, `${cert.id}-v0`]);
    expect((await world.server.request('/api/v1/certificates/cert-missing/versions')).status).toBe(404);
  });
});

describe('list', () => {
  let listInv: Inventory;
  const ids: string[] = [];

  beforeAll(async () => {
    listInv = await seedInventory(world.server.db.url);
    for (let i = 0; i < 7; i++) {
      const res = await send('POST', '/api/v1/certificates', {
        ...certificateBody(listInv, `list-${listInv.suffix}-${i}`),
        environment: i % 2 ? 'staging' : 'production',
        target_ids: i < 3 ? [listInv.targetId] : [],
        certificate_profile_id: i === 6 ? listInv.profileId : undefined,
      });
      ids.push(((await res.json()) as { id: string }).id);
    }
    // Give them distinct expiries: i days from now.
    for (const [i, id] of ids.entries()) {
      await world.sql.query(`UPDATE certificates SET expires_at = now() + $2 * interval '1 day', status = $3 WHERE id = $1`, [
        id,
        i + 1,
        i === 0 ? 'Active' : 'Pending',
      ]);
    }
  });

  const scoped = () => `owner_id=${listInv.ownerId}`;

  it('filters by every supported field', async () => {
    expect((await list(scoped())).data.map((c) => c.id)).toEqual(ids);
    expect((await list(`${scoped()}&status=Active`)).data.map((c) => c.id)).toEqual([ids[0]]);
    expect((await list(`${scoped()}&environment=staging`)).total).toBe(3);
    expect((await list(`team_id=${listInv.teamId}`)).total).toBe(7);
    expect((await list(`issuer_id=${listInv.issuerId}`)).total).toBe(7);
    expect((await list(`profile_id=${listInv.profileId}`)).data.map((c) => c.id)).toEqual([ids[6]]);
    expect((await list(`agent_id=${listInv.agentId}`)).data.map((c) => c.id)).toEqual(ids.slice(0, 3));
    const in3days = new Date(Date.now() + 3.5 * 86_400_000).toISOString();
    expect((await list(`${scoped()}&expires_before=${in3days}`)).data.map((c) => c.id)).toEqual(ids.slice(0, 3));
    expect((await list(`${scoped()}&expires_after=${in3days}`)).data.map((c) => c.id)).toEqual(ids.slice(3));
    expect((await list(`${scoped()}&created_after=2000-01-01T00:00:00Z`)).total).toBe(7);
    expect((await list(`${scoped()}&updated_after=2999-01-01T00:00:00Z`)).total).toBe(0);
  });

  it('counts a certificate with an open renewal as RenewalInProgress, not under its stored status', async () => {
    const inv2 = await seedInventory(world.server.db.url);
    const created: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await send('POST', '/api/v1/certificates', certificateBody(inv2, `count-${inv2.suffix}-${i}`));
      created.push(((await res.json()) as { id: string }).id);
    }
    await world.sql.query(`UPDATE certificates SET status = 'Active', expires_at = now() + interval '60 days' WHERE id = ANY($1)`, [created]);
    expect((await send('POST', `/api/v1/certificates/${created[1]}/renew`, {})).status).toBe(202);
    const scope = `owner_id=${inv2.ownerId}`;
    const active = await list(`${scope}&status=Active`);
    expect(active.data.map((c) => c.id)).toEqual([created[0], created[2], created[3]]);
    expect(active.total).toBe(3);
    const inProgress = await list(`${scope}&status=RenewalInProgress`);
    expect([inProgress.data.map((c) => c.id), inProgress.total]).toEqual([[created[1]], 1]);
    expect((await list(`${scope}&status=Pending`)).total).toBe(0);

    // Unscoped totals come from certificate_count_deltas, not from counting rows: they must
    // agree with the rows, before and after the deltas are folded.
    const truth = async () => {
      const { rows } = await world.sql.query<{ status: string; n: number }>(
        `SELECT CASE WHEN c.status NOT IN ('Revoked', 'Archived') AND EXISTS (SELECT 1 FROM jobs j WHERE j.certificate_id = c.id
                 AND j.type IN ('Issuance', 'Renewal') AND j.status IN ('Pending', 'AwaitingCSR', 'Running')) THEN 'RenewalInProgress' ELSE c.status END AS status,
                count(*)::int AS n FROM certificates c GROUP BY 1`,
      );
      return Object.fromEntries(rows.map((r) => [r.status, r.n]));
    };
    const served = async () => {
      const out: Record<string, number> = {};
      for (const status of ['Pending', 'Active', 'RenewalInProgress', 'Archived', 'Revoked']) {
        const n = (await list(`status=${status}&per_page=1`)).total;
        if (n) out[status] = n;
      }
      return out;
    };
    const expected = await truth();
    expect(await served()).toEqual(expected);
    expect((await list('per_page=1')).total).toBe(Object.values(expected).reduce((a, b) => a + b, 0));
    await world.sql.query(`WITH gone AS (DELETE FROM certificate_count_deltas RETURNING status, n)
                    INSERT INTO certificate_count_deltas (status, n) SELECT status, sum(n) FROM gone GROUP BY status HAVING sum(n) <> 0`);
    expect(await served()).toEqual(expected);
  });

  it('sorts by the allowed fields with an id tie-breaker', async () => {
    expect((await list(`${scoped()}&sort=-expires_at`)).data.map((c) => c.id)).toEqual([...ids].reverse());
    const byName = (await list(`${scoped()}&sort=name`)).data.map((c) => c.name);
    expect(byName).toEqual([...byName].sort());
    const res = await world.server.request('/api/v1/certificates?sort=owner_id');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/^query\.sort:/);
  });

  it('projects fields and rejects unknown ones', async () => {
    const page = await list(`${scoped()}&fields=id,status`);
    expect(Object.keys(page.data[0]!).sort()).toEqual(['id', 'status']);
    expect((await world.server.request('/api/v1/certificates?fields=id,private_key')).status).toBe(400);
  });

  it('pages with page/per_page and cursors; next_cursor on every page but the last', async () => {
    const first = await list(`${scoped()}&per_page=3`);
    expect(first).toMatchObject({ total: 7, page: 1 });
    expect(first.next_cursor).toEqual(expect.any(String));
    const second = await list(`${scoped()}&per_page=3&cursor=${first.next_cursor}`);
    const third = await list(`${scoped()}&per_page=3&cursor=${second.next_cursor}`);
    expect(third.next_cursor).toBeUndefined();
    expect([...first.data, ...second.data, ...third.data].map((c) => c.id)).toEqual(ids);
    const page2 = await list(`${scoped()}&per_page=3&page=2`);
    expect(page2.data.map((c) => c.id)).toEqual(ids.slice(3, 6));
    expect((await list(`${scoped()}&per_page=7`)).next_cursor).toBeUndefined();
    expect((await list(`${scoped()}&include_total=false`)).total).toBeNull();
  });

  it('rejects tampered cursors and cursors reused with another sort or filter', async () => {
    const { next_cursor: cursor } = await list(`${scoped()}&per_page=2`);
    const tampered = `${cursor!.slice(0, 5)}${cursor![5] === 'A' ? 'B' : 'A'}${cursor!.slice(6)}`;
    for (const q of [
      `cursor=${tampered}`,
      `cursor=${cursor}&sort=name`,
      `cursor=${cursor}&status=Active`,
      `${scoped()}&cursor=${cursor}&per_page=2&sort=-created_at`,
    ]) {
      const res = await world.server.request(`/api/v1/certificates?${q}`);
      expect(res.status, q).toBe(400);
      expect(((await res.json()) as { message: string }).message).toMatch(/^cursor:/);
    }
  });

  it('serves ETags and 304 on the list', async () => {
    const res = await world.server.request(`/api/v1/certificates?${scoped()}`);
    const etag = res.headers.get('etag')!;
    expect((await world.server.request(`/api/v1/certificates?${scoped()}`, { headers: { 'if-none-match': etag } })).status).toBe(304);
  });

  it('rejects unknown and malformed query parameters', async () => {
    for (const q of ['owner=x', 'per_page=0', 'per_page=501', 'expires_before=tomorrow', 'status=active']) {
      expect((await world.server.request(`/api/v1/certificates?${q}`)).status, q).toBe(400);
    }
  });
});

describe('presenter', () => {
  it('lists exactly the documented certificate fields, in order', async () => {
    const cert = await create('svc-fields');
    const { certificateFields } = await import('../../src/http/presenters/certificate.ts');
    expect(Object.keys(cert)).toEqual([...certificateFields]);
  });
});
