/**
 * Issuance through an external CA: an `acme` issuer against a real pebble (Let's Encrypt's test
 * CA) that validates HTTP-01 by fetching the challenge from this certfleet. A CSR is checked at
 * once (wrong names: 400, no order placed), queued as a Signing job (202), and the job processor
 * orders, answers the challenge, finalizes and stores the chain pebble issued: the renewal job
 * completes, the certificate is Active, and `openssl verify` accepts the chain against
 * pebble's root. An agent's CSR is queued the same way, is not asked for again while the CA
 * works, and becomes deployment work with pebble's chain for that agent's target.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateBody } from '../support/fixtures.ts';
import { startPebble, type TestPebble } from '../support/pebble.ts';
import { until } from '../support/until.ts';
import { useTestWorld } from '../support/world.ts';

let pebble: TestPebble;
let dir: string;
let issuerId: string;
const bootstrap = 'bootstrap-token-0123456789abcdef';

const post = (p: string, body?: unknown) =>
  world.server.request(p, { method: 'POST', ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
const csrFor = (names: string[]) =>
  execFileSync(
    'openssl',
    [
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-subj',
      `/CN=${names[0]}`,
      '-addext',
      `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`,
      '-keyout',
      '/dev/null',
    ],
    { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] },
  );

const world = useTestWorld({ env: { CERTFLEET_JOB_PROCESSOR_INTERVAL_SECONDS: '1', CERTFLEET_AGENT_BOOTSTRAP_TOKEN: bootstrap } });

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-acme-'));
  pebble = await startPebble(path.join(dir, 'pebble'), world.server.app.address.port);
  const res = await post('/api/v1/issuers', {
    name: `pebble-${world.inv.suffix}`,
    type: 'acme',
    config: { directory_url: pebble.directoryUrl, ca_bundle_pem: pebble.tlsCaPem, terms_of_service_agreed: true, async_poll_initial_wait_ms: 200 },
  });
  expect(res.status).toBe(201);
  issuerId = ((await res.json()) as { id: string }).id;
}, 60_000);
afterAll(async () => {
  await pebble?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('acme issuer (pebble)', () => {
  it('refuses an issuer config without an https directory or consent to the terms', async () => {
    const res = await post('/api/v1/issuers', { name: `bad-${world.inv.suffix}`, type: 'acme', config: { directory_url: 'http://127.0.0.1:1/dir' } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/directory_url|terms_of_service_agreed/);
  });

  it('orders from the CA in the background: HTTP-01 answered by certfleet, chain stored, renewal completed', async () => {
    const name = `app-${world.inv.suffix}.fleet.test`;
    const names = [name, `www-${world.inv.suffix}.fleet.test`];
    const created = await post(
      '/api/v1/certificates',
      certificateBody(world.inv, `app-${world.inv.suffix}`, { issuer_id: issuerId, common_name: name, sans: [names[1]] }),
    );
    expect(created.status).toBe(201);
    const cert = (await created.json()) as { id: string };
    const renew = (await (await post(`/api/v1/certificates/${cert.id}/renew`)).json()) as { job_id: string };

    // Names the CA would sign that are not the certificate's: refused before any order.
    const wrong = await post(`/api/v1/certificates/${cert.id}/csr`, { csr_pem: csrFor([name, 'evil.fleet.test']) });
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { message: string }).message).toMatch(/request exactly/);

    const queued = await post(`/api/v1/certificates/${cert.id}/csr`, { csr_pem: csrFor(names) });
    expect(queued.status).toBe(202);
    const { job_id } = (await queued.json()) as { status: string; job_id: string };
    const job = await until('Signing job Completed', async () => {
      const j = (await (await world.server.request(`/api/v1/jobs/${job_id}`)).json()) as {
        status: string;
        type: string;
        last_error: string | null;
        attempts: number;
      };
      if (j.status === 'Failed') throw new Error(`signing failed: ${j.last_error}`);
      return j.status === 'Completed' ? j : undefined;
    });
    expect(job).toMatchObject({ type: 'Signing', attempts: 1 });

    expect(((await (await world.server.request(`/api/v1/jobs/${renew.job_id}`)).json()) as { status: string }).status).toBe('Completed');
    expect(((await (await world.server.request(`/api/v1/certificates/${cert.id}`)).json()) as { status: string }).status).toBe('Active');
    const versions = (await (await world.server.request(`/api/v1/certificates/${cert.id}/versions`)).json()) as {
      data: Array<{ pem_chain: string; serial_number: string }>;
    };
    expect(versions.data).toHaveLength(1);
    const chain = versions.data[0]!.pem_chain;
    const [leaf, ...intermediates] = chain.split(/(?<=-----END CERTIFICATE-----\n)/).filter((b) => b.includes('BEGIN'));
    fs.writeFileSync(path.join(dir, 'root.pem'), await pebble.rootPem());
    fs.writeFileSync(path.join(dir, 'untrusted.pem'), intermediates.join(''));
    fs.writeFileSync(path.join(dir, 'leaf.pem'), leaf!);
    const verified = execFileSync('sh', ['-c', `openssl verify -CAfile root.pem -untrusted untrusted.pem leaf.pem 2>&1 || true`], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(verified).toMatch(/leaf\.pem: OK/);
    const text = execFileSync('openssl', ['x509', '-noout', '-text'], { input: leaf, encoding: 'utf8' });
    for (const n of names) expect(text).toContain(`DNS:${n}`);
    // The challenge responses are gone once the order ended.
    const left = await world.server.app.database.pool.query('SELECT count(*)::int AS n FROM acme_challenge_responses');
    expect(left.rows[0].n).toBe(0);
  }, 60_000);

  it("an agent's CSR: queued (202), not asked for again meanwhile, then deployment work with the CA's chain", async () => {
    const agent = (await (
      await fetch(`${world.server.url}/api/v1/agents`, {
        method: 'POST',
        headers: { authorization: `Bearer ${bootstrap}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: `acme-agent-${world.inv.suffix}` }),
      })
    ).json()) as { id: string; api_key: string };
    const as = (p: string, init: RequestInit = {}) =>
      fetch(`${world.server.url}/api/v1/agents/${agent.id}${p}`, {
        ...init,
        headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${agent.api_key}`, 'content-type': 'application/json' },
      });
    const targetId = (
      (await (
        await post('/api/v1/targets', { name: `acme-t-${world.inv.suffix}`, type: 'File', agent_id: agent.id, config: { cert_path: '/tmp/acme.pem' } })
      ).json()) as { id: string }
    ).id;
    const name = `host-${world.inv.suffix}.fleet.test`;
    const cert = (await (
      await post(
        '/api/v1/certificates',
        certificateBody(world.inv, `host-${world.inv.suffix}`, { issuer_id: issuerId, common_name: name, target_ids: [targetId] }),
      )
    ).json()) as { id: string };
    await post(`/api/v1/certificates/${cert.id}/renew`);
    type Work = { csr: Array<{ certificate_id: string }>; deployments: Array<{ certificate_id: string; target_id: string }> };
    const work = async () => (await (await as('/work')).json()) as Work;
    expect((await work()).csr.map((w) => w.certificate_id)).toEqual([cert.id]);
    const submitted = await as('/csr', { method: 'POST', body: JSON.stringify({ certificate_id: cert.id, csr_pem: csrFor([name]) }) });
    expect(submitted.status).toBe(202);
    expect(await submitted.json()).toMatchObject({ status: 'issuing', certificate_id: cert.id });
    expect((await work()).csr).toEqual([]); // answered: the CA is signing
    const deployment = await until('deployment work', async () => (await work()).deployments.find((d) => d.certificate_id === cert.id));
    expect(deployment.target_id).toBe(targetId);
    const { certificate_pem } = (await (await as(`/certificates/${cert.id}`)).json()) as { certificate_pem: string };
    expect(execFileSync('openssl', ['x509', '-noout', '-subject', '-ext', 'subjectAltName'], { input: certificate_pem, encoding: 'utf8' })).toContain(
      `DNS:${name}`,
    );
    expect(((await (await world.server.request(`/api/v1/certificates/${cert.id}`)).json()) as { status: string }).status).toBe('Active');
  }, 60_000);
});
