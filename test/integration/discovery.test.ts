/**
 * Discovery over HTTP: an agent reports certificates (made by openssl); the server derives every
 * field from the certificate, upserts on (fingerprint, agent, path) and counts new ones; a
 * certificate certfleet issued arrives Managed; list, get, claim, dismiss, scans and summary;
 * bad entries are 400s naming the index; an agent reports only for itself.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { DiscoveredCertificateSchema, DiscoveryScanSchema } from '../../src/http/routes/discovery/schema.ts';
import { certificateBody } from '../support/fixtures.ts';
import { useTestWorld } from '../support/world.ts';

const bootstrap = 'bootstrap-token-0123456789abcdef';
let a: { id: string; api_key: string };
let b: { id: string; api_key: string };

const json = (method: string, body?: unknown) => ({ method, ...(body ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}) });
const as = (agent: { api_key: string }, p: string, init: RequestInit = {}) =>
  fetch(`${world.server.url}${p}`, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${agent.api_key}` } });
const register = async (name: string) =>
  (await (
    await fetch(`${world.server.url}/api/v1/agents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bootstrap}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name }),
    })
  ).json()) as { id: string; api_key: string };

/** A self-signed certificate from openssl with the given names and key. */
function opensslCert(cn: string, sans: string[], key: string[] = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384']): string {
  return execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      ...key,
      '-nodes',
      '-subj',
      `/CN=${cn}/O=Acme, Inc.`,
      '-addext',
      `subjectAltName=${sans.map((s) => `DNS:${s}`).join(',')}`,
      '-days',
      '30',
      '-keyout',
      '/dev/null',
    ],
    { encoding: 'utf8', stdio: ['pipe', 'pipe', 'ignore'] },
  );
}

const report = (agent: { id: string; api_key: string }, body: unknown) => as(agent, `/api/v1/agents/${agent.id}/discoveries`, json('POST', body));

const world = useTestWorld({ env: { CERTFLEET_AGENT_BOOTSTRAP_TOKEN: bootstrap } });

beforeAll(async () => {
  a = await register(`disc-a-${world.inv.suffix}`);
  b = await register(`disc-b-${world.inv.suffix}`);
});

describe('discovery reports', () => {
  const web = opensslCert('web.example.test', ['web.example.test', 'www.example.test']);
  const rsa = opensslCert('legacy.example.test', ['legacy.example.test'], ['-newkey', 'rsa:2048']);

  it('derives every field from the certificate and counts new certificates', async () => {
    const res = await report(a, {
      directories: ['/etc/ssl/private', '/etc/nginx'],
      certificates: [
        { pem_data: web, source_path: '/etc/nginx/web.pem' },
        { pem_data: web, source_path: '/etc/nginx/web.pem' }, // the same file twice in one report: one row
        { pem_data: rsa, source_path: '/etc/ssl/legacy.der', source_format: 'DER' },
      ],
      errors: ['/etc/ssl/broken.pem: no certificate'],
      scan_duration_ms: 42,
    });
    expect(res.status, await res.clone().text()).toBe(202);
    const scan = (await res.json()) as { id: string; certificates_found: number; certificates_new: number; errors_count: number };
    expect(DiscoveryScanSchema.safeParse(scan).success).toBe(true);
    expect(scan).toMatchObject({ certificates_found: 2, certificates_new: 2, errors_count: 1 });

    const list = (await (await world.server.request(`/api/v1/discovered-certificates?agent_id=${a.id}`)).json()) as { data: Array<Record<string, unknown>> };
    expect(list.data).toHaveLength(2);
    const found = list.data.find((d) => d.source_path === '/etc/nginx/web.pem')!;
    expect(DiscoveredCertificateSchema.safeParse(found).success).toBe(true);
    const oracle = new X509Certificate(web);
    expect(found).toMatchObject({
      common_name: 'web.example.test',
      sans: ['web.example.test', 'www.example.test'],
      fingerprint_sha256: oracle.fingerprint256.replaceAll(':', '').toLowerCase(),
      serial_number: oracle.serialNumber.toLowerCase().replace(/^0+/, ''),
      key_algorithm: 'ECDSA',
      key_size: 384,
      subject_dn: 'CN=web.example.test, O=Acme\\, Inc.',
      status: 'Unmanaged',
      source_format: 'PEM',
      discovery_scan_id: scan.id,
    });
    expect(new Date(found.not_after as string).getTime()).toBe(new Date(oracle.validTo).getTime());
    const legacy = list.data.find((d) => d.source_path === '/etc/ssl/legacy.der')!;
    expect(legacy).toMatchObject({ key_algorithm: 'RSA', key_size: 2048, source_format: 'DER' });

    // The same certificate seen again: nothing new, last_seen_at moves, the row stays.
    const again = (await (await report(a, { certificates: [{ pem_data: web, source_path: '/etc/nginx/web.pem' }] })).json()) as { certificates_new: number };
    expect(again.certificates_new).toBe(0);
    const after = (await (await world.server.request(`/api/v1/discovered-certificates/${found.id as string}`)).json()) as {
      last_seen_at: string;
      first_seen_at: string;
    };
    expect(new Date(after.last_seen_at).getTime()).toBeGreaterThan(new Date(after.first_seen_at).getTime());
    // Another path, or another agent, is another sighting.
    expect(
      ((await (await report(a, { certificates: [{ pem_data: web, source_path: '/srv/web.pem' }] })).json()) as { certificates_new: number }).certificates_new,
    ).toBe(1);
    expect(
      ((await (await report(b, { certificates: [{ pem_data: web, source_path: '/etc/nginx/web.pem' }] })).json()) as { certificates_new: number })
        .certificates_new,
    ).toBe(1);
  });

  it('links a certificate certfleet issued to its managed certificate at once', async () => {
    const cert = (await (await world.server.request('/api/v1/certificates', json('POST', certificateBody(world.inv, `disc-${world.inv.suffix}`)))).json()) as {
      id: string;
    };
    const csr = execFileSync(
      'openssl',
      ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=x', '-keyout', '/dev/null'],
      { encoding: 'utf8', stdio: ['pipe', 'pipe', 'ignore'] },
    );
    const issued = (await (await world.server.request(`/api/v1/certificates/${cert.id}/csr`, json('POST', { csr_pem: csr }))).json()) as {
      certificate_pem: string;
    };
    await report(a, { certificates: [{ pem_data: issued.certificate_pem, source_path: '/etc/nginx/managed.pem' }] });
    const list = (await (await world.server.request(`/api/v1/discovered-certificates?agent_id=${a.id}&status=Managed`)).json()) as {
      data: Array<{ managed_certificate_id: string }>;
    };
    expect(list.data.map((d) => d.managed_certificate_id)).toEqual([cert.id]);
  });

  it('refuses bad entries with a 400 naming the index, and records nothing', async () => {
    const before = (await (await world.server.request(`/api/v1/discovery-summary?agent_id=${a.id}`)).json()) as Record<string, number>;
    const notCert = await report(a, {
      certificates: [
        { pem_data: web, source_path: '/ok.pem' },
        { pem_data: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', source_path: '/bad.pem' },
      ],
    });
    expect(notCert.status).toBe(400);
    expect(((await notCert.json()) as { message: string }).message).toMatch(/^certificates\.1\.pem_data/);
    const two = await report(a, { certificates: [{ pem_data: web + rsa, source_path: '/two.pem' }] });
    expect(((await two.json()) as { message: string }).message).toMatch(/more than one certificate/);
    expect((await report(a, { certificates: [{ pem_data: web }] })).status).toBe(400);
    expect((await report(a, { certificates: Array.from({ length: 1001 }, () => ({ pem_data: 'x', source_path: '/x' })) })).status).toBe(400);
    expect((await world.server.request(`/api/v1/discovery-summary?agent_id=${a.id}`).then((r) => r.json())) as Record<string, number>).toEqual(before);
  });

  it('lets an agent report only for itself, and not once retired', async () => {
    expect((await as(a, `/api/v1/agents/${b.id}/discoveries`, json('POST', { certificates: [] }))).status).toBe(403);
    const c = await register(`disc-c-${world.inv.suffix}`);
    await world.server.request(`/api/v1/agents/${c.id}`, { method: 'DELETE' });
    expect((await report(c, { certificates: [] })).status).toBe(410);
  });
});

describe('operating on discovered certificates', () => {
  it('claims, dismisses, summarises and pages', async () => {
    const list = (await (await world.server.request(`/api/v1/discovered-certificates?agent_id=${a.id}&status=Unmanaged&per_page=1`)).json()) as {
      data: Array<{ id: string }>;
      next_cursor?: string;
    };
    expect(list.data).toHaveLength(1);
    expect(list.next_cursor).toBeDefined();
    const next = (await (
      await world.server.request(`/api/v1/discovered-certificates?agent_id=${a.id}&status=Unmanaged&per_page=1&cursor=${list.next_cursor!}`)
    ).json()) as { data: Array<{ id: string }> };
    expect(next.data[0]!.id > list.data[0]!.id).toBe(true);
    expect((await world.server.request(`/api/v1/discovered-certificates?status=Managed&cursor=${list.next_cursor!}`)).status).toBe(400); // cursor bound to its filters

    const [first, second] = [list.data[0]!.id, next.data[0]!.id];
    const cert = (await (await world.server.request('/api/v1/certificates', json('POST', certificateBody(world.inv, `claim-${world.inv.suffix}`)))).json()) as {
      id: string;
    };
    expect((await world.server.request(`/api/v1/discovered-certificates/${first}/claim`, json('POST', { managed_certificate_id: 'nope' }))).status).toBe(400);
    const claimed = (await (
      await world.server.request(`/api/v1/discovered-certificates/${first}/claim`, json('POST', { managed_certificate_id: cert.id }))
    ).json()) as { status: string; managed_certificate_id: string };
    expect(claimed).toMatchObject({ status: 'Managed', managed_certificate_id: cert.id });
    const dismissed = (await (await world.server.request(`/api/v1/discovered-certificates/${second}/dismiss`, { method: 'POST' })).json()) as {
      status: string;
      dismissed_at: string;
    };
    expect(dismissed.status).toBe('Dismissed');
    expect(dismissed.dismissed_at).toBeTruthy();
    expect((await world.server.request('/api/v1/discovered-certificates/dcert-missing/dismiss', { method: 'POST' })).status).toBe(404);

    const summary = (await (await world.server.request(`/api/v1/discovery-summary?agent_id=${a.id}`)).json()) as Record<string, number>;
    const all = (await (await world.server.request(`/api/v1/discovered-certificates?agent_id=${a.id}`)).json()) as { data: Array<{ status: string }> };
    expect(summary).toEqual({
      Unmanaged: all.data.filter((d) => d.status === 'Unmanaged').length,
      Managed: all.data.filter((d) => d.status === 'Managed').length,
      Dismissed: 1,
    });
    const scans = (await (await world.server.request(`/api/v1/discovery-scans?agent_id=${a.id}`)).json()) as { data: Array<{ agent_id: string }> };
    expect(scans.data.length).toBeGreaterThanOrEqual(3);
    expect(scans.data.every((s) => s.agent_id === a.id)).toBe(true);
    const audit = (await (await world.server.request(`/api/v1/audit?resource_id=${first}`)).json()) as { data: Array<{ action: string }> };
    expect(audit.data.map((e) => e.action)).toContain('discovered_certificate_claimed');
  });

  it('is not readable by an agent key', async () => {
    expect((await as(a, '/api/v1/discovered-certificates')).status).toBe(403);
  });
});
