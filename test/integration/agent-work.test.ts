/**
 * The agent work protocol over HTTP: CSR work only for certificates an agent serves, issuance
 * per agent (each agent serving a certificate gets its own leaf for its own key, deployed to its
 * own targets; the job completes once every serving agent answered), enrollment of a newly mapped
 * agent, claims that never hand a job out twice
 * (parallel polls), PEM fetch, status reports with retry backoff, and 410 once retired.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { WorkSchema } from '../../src/http/routes/agents/schema.ts';
import { certificateBody } from '../support/fixtures.ts';
import { until } from '../support/until.ts';
import { useTestWorld } from '../support/world.ts';

const bootstrap = 'bootstrap-token-0123456789abcdef';
let a: { id: string; api_key: string };
let b: { id: string; api_key: string };
let shared: string; // certificate mapped to A (2 targets) and B (1 target)
let bOnly: string; // certificate mapped to B only

const csr = () =>
  execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=x', '-keyout', '/dev/null'], {
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'ignore'],
  });
const json = (method: string, body?: unknown) => ({ method, ...(body ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}) });
const as = (agent: { api_key: string }, p: string, init: RequestInit = {}) =>
  fetch(`${world.server.url}${p}`, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${agent.api_key}` } });

interface Work {
  csr: Array<{ job_id: string | null; type: string; certificate_id: string; common_name: string }>;
  deployments: Array<{ job_id: string; target_id: string; attempts: number }>;
}

const register = async (name: string) =>
  (await (
    await fetch(`${world.server.url}/api/v1/agents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bootstrap}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name }),
    })
  ).json()) as { id: string; api_key: string };
const target = async (name: string, agentId: string) =>
  (
    (await (
      await world.server.request('/api/v1/targets', json('POST', { name, type: 'File', agent_id: agentId, config: { cert_path: `/tmp/${name}.pem` } }))
    ).json()) as { id: string }
  ).id;
let sharedTargets: string[];

const world = useTestWorld({ env: { CERTFLEET_AGENT_BOOTSTRAP_TOKEN: bootstrap } });

beforeAll(async () => {
  a = await register('work-a');
  b = await register('work-b');
  const [ta1, ta2, tb] = [await target('a-1', a.id), await target('a-2', a.id), await target('b-1', b.id)];
  sharedTargets = [ta1, ta2, tb];
  shared = (
    (await (
      await world.server.request('/api/v1/certificates', json('POST', certificateBody(world.inv, `shared-${world.inv.suffix}`, { target_ids: [ta1, ta2, tb] })))
    ).json()) as { id: string }
  ).id;
  bOnly = (
    (await (
      await world.server.request('/api/v1/certificates', json('POST', certificateBody(world.inv, `b-only-${world.inv.suffix}`, { target_ids: [tb] })))
    ).json()) as {
      id: string;
    }
  ).id;
  await world.server.request(`/api/v1/certificates/${shared}/renew`, { method: 'POST' });
  await world.server.request(`/api/v1/certificates/${bOnly}/renew`, { method: 'POST' });
});

describe('agent work protocol', () => {
  it('shows each agent the CSRs of the certificates it serves', async () => {
    const workA = (await (await as(a, `/api/v1/agents/${a.id}/work`)).json()) as Work;
    const workB = (await (await as(b, `/api/v1/agents/${b.id}/work`)).json()) as Work;
    expect(workA.csr.map((w) => w.certificate_id)).toEqual([shared]);
    expect(workA.csr[0]!.common_name).toBe(`shared-${world.inv.suffix}.example.test`);
    expect(workB.csr.map((w) => w.certificate_id).sort()).toEqual([shared, bOnly].sort());
    expect(workA.deployments).toEqual([]);
    expect(WorkSchema.safeParse(workA).success).toBe(true); // the documented response schema
    expect((await as(a, `/api/v1/agents/${b.id}/work`)).status).toBe(403);
  });

  it('issues from an agent CSR, fans out deployments, and never hands a job out twice', async () => {
    expect((await as(a, `/api/v1/agents/${a.id}/csr`, json('POST', { certificate_id: bOnly, csr_pem: csr() }))).status).toBe(403);
    const res = await as(a, `/api/v1/agents/${a.id}/csr`, json('POST', { certificate_id: shared, csr_pem: csr() }));
    expect(res.status, await res.clone().text()).toBe(201);
    // A's leaf holds A's key: it deploys to A's two targets only.
    expect(((await res.json()) as { deployments: number }).deployments).toBe(2);
    const afterCsr = (await (await as(a, `/api/v1/agents/${a.id}/work`)).json()) as Work;
    expect(afterCsr.csr).toEqual([]); // A has answered; the job still waits for B
    const job = async () =>
      ((await (await world.server.request(`/api/v1/jobs?certificate_id=${shared}&type=Issuance`)).json()) as { data: Array<{ status: string }> }).data[0]!
        .status;
    expect(await job()).toBe('AwaitingCSR');

    // The poll above already claimed A's two jobs; parallel polls must not return them again.
    expect(afterCsr.deployments).toHaveLength(2);
    expect(afterCsr.deployments.every((d) => d.attempts === 1)).toBe(true);
    const parallel = await Promise.all(
      Array.from({ length: 5 }, async () => ((await (await as(a, `/api/v1/agents/${a.id}/work`)).json()) as Work).deployments),
    );
    expect(parallel.flat()).toEqual([]);
    let workB = (await (await as(b, `/api/v1/agents/${b.id}/work`)).json()) as Work;
    expect(workB.csr.map((w) => w.certificate_id).sort()).toEqual([shared, bOnly].sort());
    expect(workB.deployments).toEqual([]);
    const resB = await as(b, `/api/v1/agents/${b.id}/csr`, json('POST', { certificate_id: shared, csr_pem: csr() }));
    expect(((await resB.json()) as { deployments: number }).deployments).toBe(1);
    expect(await job()).toBe('Completed'); // every agent serving it has its own leaf now
    expect(((await (await world.server.request(`/api/v1/certificates/${shared}`)).json()) as { status: string }).status).toBe('Active');
    workB = (await (await as(b, `/api/v1/agents/${b.id}/work`)).json()) as Work;
    expect(workB.csr.map((w) => w.certificate_id)).toEqual([bOnly]);
    expect(workB.deployments).toHaveLength(1);
    const leafOf = async (agent: { id: string; api_key: string }) =>
      ((await (await as(agent, `/api/v1/agents/${agent.id}/certificates/${shared}`)).json()) as { certificate_pem: string }).certificate_pem.split(
        '-----END CERTIFICATE-----',
      )[0];
    expect(await leafOf(a)).not.toBe(await leafOf(b));

    expect(WorkSchema.safeParse(afterCsr).success).toBe(true);
    const pem = ((await (await as(a, `/api/v1/agents/${a.id}/certificates/${shared}`)).json()) as { certificate_pem: string }).certificate_pem;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-work-'));
    const [leaf, ca] = pem.split(/(?<=-----END CERTIFICATE-----\n)/);
    fs.writeFileSync(path.join(dir, 'leaf.pem'), leaf!);
    fs.writeFileSync(path.join(dir, 'ca.pem'), ca!);
    expect(execFileSync('openssl', ['verify', '-CAfile', path.join(dir, 'ca.pem'), path.join(dir, 'leaf.pem')], { encoding: 'utf8' })).toMatch(/: OK/);
    fs.rmSync(dir, { recursive: true, force: true });
    expect((await as(a, `/api/v1/agents/${a.id}/certificates/${bOnly}`)).status).toBe(403);

    // Reports: Completed once; Failed goes back to Pending with backoff; others' jobs are not found.
    const [first, second] = afterCsr.deployments as [Work['deployments'][0], Work['deployments'][0]];
    const done = await as(a, `/api/v1/agents/${a.id}/jobs/${first.job_id}/status`, json('POST', { status: 'Completed' }));
    expect(((await done.json()) as { status: string }).status).toBe('Completed');
    expect((await as(a, `/api/v1/agents/${a.id}/jobs/${first.job_id}/status`, json('POST', { status: 'Completed' }))).status).toBe(409);
    expect((await as(a, `/api/v1/agents/${a.id}/jobs/${workB.deployments[0]!.job_id}/status`, json('POST', { status: 'Completed' }))).status).toBe(404);
    const failed = (await (
      await as(a, `/api/v1/agents/${a.id}/jobs/${second.job_id}/status`, json('POST', { status: 'Failed', error: 'nginx -t failed' }))
    ).json()) as { status: string; last_error: string; scheduled_at: string };
    expect(failed.status).toBe('Pending');
    expect(failed.last_error).toBe('nginx -t failed');
    expect(new Date(failed.scheduled_at).getTime() - Date.now()).toBeGreaterThan(20_000); // ~30 s backoff
    expect(((await (await as(a, `/api/v1/agents/${a.id}/work`)).json()) as Work).deployments).toEqual([]);
    expect((await as(a, `/api/v1/agents/${a.id}/jobs/${second.job_id}/status`, json('POST', { status: 'Bogus' }))).status).toBe(400);
    // A connector report is checked like any input: a wrong field is a 400 naming it, nothing stored.
    const badReport = await as(
      a,
      `/api/v1/agents/${a.id}/jobs/${second.job_id}/status`,
      json('POST', {
        status: 'Failed',
        report: { connector: 'nginx', files: [{ path: '/x', sha256: 'nope', changed: true }], commands: [], rolled_back: false, duration_ms: 1 },
      }),
    );
    expect(badReport.status).toBe(400);
    expect(((await badReport.json()) as { message: string }).message).toMatch(/^report\.files\.0\.sha256:/);

    // What was deployed where, as the API serves it: each target with its latest deployment,
    // and the certificate's last deployment time.
    type Deployment = { id: string; last_deployment: { job_id: string; status: string; error: string | null; completed_at: string | null } | null };
    const deployments = async (certificateId: string) =>
      ((await (await world.server.request(`/api/v1/certificates/${certificateId}/deployments`)).json()) as { data: Deployment[] }).data;
    const certificateOf = (item: { job_id: string }) => (item as unknown as { certificate_id: string }).certificate_id;
    const byJob = new Map((await deployments(certificateOf(first))).map((d) => [d.last_deployment?.job_id, d.last_deployment]));
    expect(byJob.get(first.job_id)).toMatchObject({ status: 'Completed', error: null });
    expect(Date.parse(byJob.get(first.job_id)!.completed_at!)).toBeGreaterThan(Date.now() - 60_000);
    const certificate = (await (await world.server.request(`/api/v1/certificates/${certificateOf(first)}`)).json()) as { last_deployment_at: string | null };
    expect(Date.parse(certificate.last_deployment_at!)).toBeGreaterThan(Date.now() - 60_000);
    const retried = (await deployments(certificateOf(second))).find((d) => d.last_deployment?.job_id === second.job_id)!.last_deployment;
    expect(retried).toMatchObject({ status: 'Pending', error: 'nginx -t failed', completed_at: null });
  });

  it('enrolls an agent newly mapped to an issued certificate, and completes a renewal when the last owing agent retires', async () => {
    const c = await register('work-c');
    const tc = await target('c-1', c.id);
    expect((await world.server.request(`/api/v1/certificates/${shared}`, json('PATCH', { target_ids: [...sharedTargets, tc] }))).status).toBe(200);
    const workC = (await (await as(c, `/api/v1/agents/${c.id}/work`)).json()) as Work;
    expect(workC.csr.map((w) => [w.certificate_id, w.type, w.job_id])).toEqual([[shared, 'Enrollment', null]]);
    expect(WorkSchema.safeParse(workC).success).toBe(true);
    const enrolled = await as(c, `/api/v1/agents/${c.id}/csr`, json('POST', { certificate_id: shared, csr_pem: csr() }));
    expect(((await enrolled.json()) as { deployments: number }).deployments).toBe(1);
    expect(((await (await as(c, `/api/v1/agents/${c.id}/work`)).json()) as Work).csr).toEqual([]);

    // A renewal that A and B answer but C never does completes once C is retired.
    expect((await world.server.request(`/api/v1/certificates/${shared}/renew`, { method: 'POST' })).status).toBe(202);
    await as(a, `/api/v1/agents/${a.id}/csr`, json('POST', { certificate_id: shared, csr_pem: csr() }));
    await as(b, `/api/v1/agents/${b.id}/csr`, json('POST', { certificate_id: shared, csr_pem: csr() }));
    const renewal = async () =>
      ((await (await world.server.request(`/api/v1/jobs?certificate_id=${shared}&type=Renewal`)).json()) as { data: Array<{ status: string }> }).data[0]!
        .status;
    expect(await renewal()).toBe('AwaitingCSR');
    await world.server.request(`/api/v1/agents/${c.id}`, { method: 'DELETE' });
    expect(await renewal()).toBe('Completed');
  });

  it('answers 410 on work routes once the agent is retired', async () => {
    await world.server.request(`/api/v1/agents/${b.id}`, { method: 'DELETE' });
    expect((await as(b, `/api/v1/agents/${b.id}/work`)).status).toBe(410);
    expect((await as(b, `/api/v1/agents/${b.id}/csr`, json('POST', { certificate_id: bOnly, csr_pem: csr() }))).status).toBe(410);
  });
});

describe('work polls that wait (?wait=N)', () => {
  const waitingPolls = async () => {
    const text = await (await world.server.request('/metrics')).text();
    return Number(/^certfleet_agent_work_polls_waiting (\d+)$/m.exec(text)?.[1]);
  };
  let d: { id: string; api_key: string };
  let certificateId: string;

  beforeAll(async () => {
    d = await register('work-d');
    const td = await target('d-1', d.id);
    const created = await world.server.request(
      '/api/v1/certificates',
      json('POST', certificateBody(world.inv, `waits-${world.inv.suffix}`, { target_ids: [td] })),
    );
    certificateId = ((await created.json()) as { id: string }).id;
  });

  it('answers as soon as work for its agent is created, not when its wait runs out', async () => {
    expect(((await (await as(d, `/api/v1/agents/${d.id}/work`)).json()) as Work).csr).toEqual([]);
    const started = performance.now();
    const poll = as(d, `/api/v1/agents/${d.id}/work?wait=20`);
    await until('the poll to wait', async () => ((await waitingPolls()) === 1 ? true : undefined));
    expect((await world.server.request(`/api/v1/certificates/${certificateId}/renew`, { method: 'POST' })).status).toBe(202);
    const answer = await poll;
    const elapsed = performance.now() - started;
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as Work).csr.map((w) => [w.certificate_id, w.type])).toEqual([[certificateId, 'Issuance']]);
    expect(elapsed).toBeLessThan(5_000);
    expect(await waitingPolls()).toBe(0);
  });

  it('answers empty when its wait runs out, with the heartbeat it was asked to record', async () => {
    await as(d, `/api/v1/agents/${d.id}/csr`, json('POST', { certificate_id: certificateId, csr_pem: csr() }));
    // The CSR's deployment is claimed now; nothing is left for the waiting poll.
    expect(((await (await as(d, `/api/v1/agents/${d.id}/work`)).json()) as Work).deployments).toHaveLength(1);
    const beats = async () => Number((await world.sql.query('SELECT heartbeats FROM agent_liveness WHERE agent_id = $1', [d.id])).rows[0].heartbeats);
    const before = await beats();
    const started = performance.now();
    const answer = await as(d, `/api/v1/agents/${d.id}/work?wait=1&heartbeat=true`);
    const elapsed = performance.now() - started;
    expect(await answer.json()).toEqual({ csr: [], deployments: [], heartbeat: 'recorded' });
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(4_000);
    expect(await beats()).toBe(before + 1);
    const agent = (await (await world.server.request(`/api/v1/agents/${d.id}`)).json()) as { last_heartbeat_at: string | null };
    expect(Date.now() - Date.parse(agent.last_heartbeat_at!)).toBeLessThan(10_000);
  });

  it('stops waiting when its client leaves', async () => {
    const leaving = new AbortController();
    const poll = as(d, `/api/v1/agents/${d.id}/work?wait=30`, { signal: leaving.signal }).catch((err: Error) => err.name);
    await until('the poll to wait', async () => ((await waitingPolls()) === 1 ? true : undefined));
    leaving.abort();
    expect(await poll).toBe('AbortError');
    await until('the wait to be dropped', async () => ((await waitingPolls()) === 0 ? true : undefined));
  });

  it('refuses a wait longer than 55 s and unknown parameters', async () => {
    for (const query of ['wait=56', 'wait=-1', 'wait=1.5', 'heartbeat=yes', 'since=1']) {
      const res = await as(d, `/api/v1/agents/${d.id}/work?${query}`);
      expect(res.status, query).toBe(400);
    }
  });
});
