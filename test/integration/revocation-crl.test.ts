/**
 * Revocation and CRLs with the real openssl: a revoked certificate appears in its issuer's CRL
 * (signature verified by `openssl crl -verify`, reason code present) and fails
 * `openssl verify -crl_check` while a good one passes; bulk revocation is set-based and idempotent;
 * the CRL endpoint serves ETags and increasing CRL numbers.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateBody, seedInventory } from '../support/fixtures.ts';
import { until, untilTrue } from '../support/until.ts';
import { useTestWorld } from '../support/world.ts';

let dir: string;
let caPem = '';

const openssl = (args: string[], input?: string | Buffer) => execFileSync('openssl', args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
const ecCsr = () => openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=x', '-keyout', '/dev/null']);

const world = useTestWorld();

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-crl-'));
});
afterAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const post = (p: string, body: unknown) =>
  world.server.request(p, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function issue(name: string, extra: Record<string, unknown> = {}) {
  const cert = (await (await post('/api/v1/certificates', certificateBody(world.inv, name, extra))).json()) as { id: string };
  const issued = (await (await post(`/api/v1/certificates/${cert.id}/csr`, { csr_pem: ecCsr() })).json()) as {
    certificate_pem: string;
    chain_pem: string;
    serial_number: string;
  };
  caPem = issued.chain_pem;
  return { id: cert.id, ...issued };
}

async function crl(): Promise<Response> {
  return world.server.request(`/.well-known/pki/crl/${world.inv.issuerId}`, { auth: null });
}

/** Waits (bounded) until the CRL's text satisfies `ready`. */
function crlText(ready: (text: string) => boolean): Promise<{ text: string; der: Buffer }> {
  return until(
    'the CRL to reach the expected state',
    async () => {
      const der = Buffer.from(await (await crl()).arrayBuffer());
      const text = openssl(['crl', '-inform', 'DER', '-noout', '-text'], der);
      return ready(text) ? { text, der } : undefined;
    },
    { timeoutMs: 10_000, intervalMs: 200 },
  );
}

describe('revocation and CRL', () => {
  it('publishes revoked serials with reasons in a CRL openssl verifies', async () => {
    const good = await issue(`good-${world.inv.suffix}`);
    const bad = await issue(`bad-${world.inv.suffix}`);
    const before = await crl();
    expect(before.status).toBe(200);
    expect(before.headers.get('content-type')).toBe('application/pkix-crl');
    expect(before.headers.get('cache-control')).toMatch(/^public, max-age=\d+, must-revalidate$/);

    const res = await post(`/api/v1/certificates/${bad.id}/revoke`, { reason: 'keyCompromise' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'revoked', certificate_id: bad.id, reason: 'keyCompromise', revoked_serials: 1 });
    expect((await post(`/api/v1/certificates/${bad.id}/revoke`, {})).status).toBe(409);
    const got = (await (await world.server.request(`/api/v1/certificates/${bad.id}`)).json()) as {
      status: string;
      revocation_reason: string;
      revoked_at: string;
    };
    expect(got).toMatchObject({ status: 'Revoked', revocation_reason: 'keyCompromise' });

    const { text, der } = await crlText((t) => t.toUpperCase().includes(bad.serial_number.toUpperCase()));
    expect(text).toMatch(/Key Compromise/);
    expect(text).toMatch(/X509v3 CRL Number:\s+\d+/);
    expect(text).toMatch(/X509v3 Authority Key Identifier/);
    expect(text.toUpperCase()).not.toContain(good.serial_number.toUpperCase());

    const caFile = path.join(dir, 'ca.pem');
    const crlFile = path.join(dir, 'crl.der');
    fs.writeFileSync(caFile, caPem);
    fs.writeFileSync(crlFile, der);
    const verifyOut = execFileSync('sh', ['-c', `openssl crl -inform DER -in ${crlFile} -CAfile ${caFile} -noout -verify 2>&1`], { encoding: 'utf8' });
    expect(verifyOut).toMatch(/verify OK/);

    // Certificate path validation with the CRL: the revoked one fails, the good one passes.
    const crlPem = path.join(dir, 'crl.pem');
    openssl(['crl', '-inform', 'DER', '-in', crlFile, '-out', crlPem]);
    const check = (pem: string) => {
      const f = path.join(dir, `leaf-${Math.random()}.pem`);
      fs.writeFileSync(f, pem);
      return execFileSync('sh', ['-c', `openssl verify -crl_check -CAfile ${caFile} -CRLfile ${crlPem} ${f} 2>&1 || true`], { encoding: 'utf8' });
    };
    expect(check(good.certificate_pem)).toMatch(/: OK/);
    expect(check(bad.certificate_pem)).toMatch(/certificate revoked/);

    // Revoked certificates cannot be issued again.
    expect((await post(`/api/v1/certificates/${bad.id}/csr`, { csr_pem: ecCsr() })).status).toBe(409);
  });

  it('serves ETags, 304, and a growing CRL number', async () => {
    const first = await crl();
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{43}"$/);
    expect((await world.server.request(`/.well-known/pki/crl/${world.inv.issuerId}`, { auth: null, headers: { 'if-none-match': etag } })).status).toBe(304);
    const number = (t: string) => Number(/X509v3 CRL Number:\s+(\d+)/.exec(t)![1]);
    const before = number(openssl(['crl', '-inform', 'DER', '-noout', '-text'], Buffer.from(await first.arrayBuffer())));
    const another = await issue(`another-${world.inv.suffix}`);
    await post(`/api/v1/certificates/${another.id}/revoke`, { reason: 'superseded' });
    const { text } = await crlText((t) => t.toUpperCase().includes(another.serial_number.toUpperCase()));
    expect(number(text)).toBeGreaterThan(before);
    expect(text).toMatch(/Superseded/);
    expect((await world.server.request('/.well-known/pki/crl/iss-nope', { auth: null })).status).toBe(404);
  });

  it("the leader re-signs aging stored CRLs (crl-refresh, here through run-now); numbers continue after another replica's", async () => {
    await crl(); // a stored CRL exists
    const stored = async () =>
      (await world.sql.query<{ n: string; t: Date }>('SELECT crl_number AS n, this_update AS t FROM crls WHERE issuer_id = $1', [world.inv.issuerId])).rows[0]!;
    // Aged 40 min: past half of the 1 h refresh age, still servable.
    await world.sql.query(`UPDATE crls SET this_update = now() - interval '40 minutes' WHERE issuer_id = $1`, [world.inv.issuerId]);
    const before = Number((await stored()).n);
    expect((await world.server.request('/api/v1/scheduler/loops/crl-refresh/run', { method: 'POST' })).status).toBe(202);
    await untilTrue('the refreshed CRL to be stored', async () => Number((await stored()).n) !== before, { timeoutMs: 5_000 });
    const after = await stored();
    expect(Number(after.n)).toBe(before + 1);
    expect(Date.now() - after.t.getTime()).toBeLessThan(60_000);
    // Another replica stored a higher number meanwhile: the next rebuild continues after it.
    await world.sql.query('UPDATE crls SET crl_number = crl_number + 10 WHERE issuer_id = $1', [world.inv.issuerId]);
    const revokedNow = await issue(`race-${world.inv.suffix}`);
    await post(`/api/v1/certificates/${revokedNow.id}/revoke`, { reason: 'superseded' });
    const { text } = await crlText((t) => t.toUpperCase().includes(revokedNow.serial_number.toUpperCase()));
    expect(Number(/X509v3 CRL Number:\s+(\d+)/.exec(text)![1])).toBeGreaterThan(before + 10);
  });

  it('rejects unknown reasons', async () => {
    const res = await post('/api/v1/certificates/whatever/revoke', { reason: 'removeFromCRL' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/^reason: must be one of/);
  });
});

describe('bulk revocation', () => {
  it('revokes thousands of matching certificates in one request, idempotently, and lists them in the CRL', async () => {
    const bulkInv = await seedInventory(world.server.db.url);
    const n = 5000;
    // Issued certificates for the bulk owner, made directly in SQL (their serials are what matters).
    await world.sql.query(
      `INSERT INTO certificates (id, name, common_name, owner_id, team_id, issuer_id, renewal_policy_id, status)
       SELECT 'bulk-' || g || '-' || $5, 'bulk-' || g || '-' || $5, 'b' || g || '.example.test', $1, $2, $3, $4, 'Active'
         FROM generate_series(1, $6) g`,
      [bulkInv.ownerId, world.inv.teamId, world.inv.issuerId, world.inv.policyId, bulkInv.suffix, n],
    );
    await world.sql.query(
      `INSERT INTO certificate_versions (id, certificate_id, serial_number, not_before, not_after, fingerprint_sha256, pem_chain)
       SELECT 'v-' || c.id, c.id, md5(c.id), now(), now() + interval '30 days', md5(c.id) || md5(c.id), 'PEM'
         FROM certificates c WHERE c.owner_id = $1`,
      [bulkInv.ownerId],
    );
    await world.sql.query("UPDATE certificates SET status = 'Archived' WHERE id = $1", [`bulk-1-${bulkInv.suffix}`]);

    expect((await post('/api/v1/certificates/bulk-revoke', { reason: 'cessationOfOperation' })).status).toBe(400);
    const started = performance.now();
    const res = await post('/api/v1/certificates/bulk-revoke', { reason: 'cessationOfOperation', owner_id: bulkInv.ownerId });
    const ms = performance.now() - started;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ total_matched: n, total_revoked: n - 1, total_skipped: 1, total_failed: 0 });
    console.log(`bulk-revoke of ${n - 1} certificates: ${ms.toFixed(0)} ms`);
    const again = (await (await post('/api/v1/certificates/bulk-revoke', { reason: 'cessationOfOperation', owner_id: bulkInv.ownerId })).json()) as {
      total_revoked: number;
      total_skipped: number;
    };
    expect(again).toMatchObject({ total_revoked: 0, total_skipped: n });

    const { rows } = await world.sql.query('SELECT count(*)::int AS n FROM certificate_revocations WHERE issuer_id = $1 AND reason = $2', [
      world.inv.issuerId,
      'cessationOfOperation',
    ]);
    expect(rows[0].n).toBe(n - 1);
    const { text } = await crlText((t) => (t.match(/Serial Number:/g) ?? []).length >= n - 1);
    expect((text.match(/Cessation Of Operation/g) ?? []).length).toBe(n - 1);
  });
});
