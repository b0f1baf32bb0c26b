/**
 * Bring-your-own-CSR issuance over HTTP with the real openssl: chains verify, versions are
 * stored, the certificate becomes Active, profiles are enforced with a 400 that says what
 * failed, the CA key persists encrypted across restarts, and a configured sub-CA is used.
 */
import { execFileSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/schema.ts';
import { certificateBody, seedInventory } from '../support/fixtures.ts';
import { memoryLogger } from '../support/memory-log.ts';
import { startTestServer, testEncryptionKey, type TestServer } from '../support/server.ts';
import { useTestWorld } from '../support/world.ts';

let dir: string;

const openssl = (args: string[]) => execFileSync('openssl', args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
const ecCsr = (cn: string) =>
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${cn}`, '-keyout', '/dev/null']);
const rsaCsr = (cn: string) => openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', '/dev/null']);

const world = useTestWorld();

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-issue-'));
});
afterAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const post = (target: TestServer, p: string, body: unknown) =>
  target.request(p, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function newCertificate(target: TestServer, name: string, extra: Record<string, unknown> = {}) {
  const res = await post(target, '/api/v1/certificates', certificateBody(world.inv, name, extra));
  expect(res.status, await res.clone().text()).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

function verifyChain(leafPem: string, caPem: string, untrusted?: string): string {
  const leaf = path.join(dir, `leaf-${Math.random()}.pem`);
  const ca = path.join(dir, `ca-${Math.random()}.pem`);
  fs.writeFileSync(leaf, leafPem);
  fs.writeFileSync(ca, caPem);
  const extra = untrusted ? ['-untrusted', untrusted] : [];
  return openssl(['verify', '-CAfile', ca, ...extra, leaf]);
}

interface Issued {
  certificate_pem: string;
  chain_pem: string;
  serial_number: string;
  not_before: string;
  not_after: string;
  version_id: string;
  fingerprint_sha256: string;
}

describe('POST /api/v1/certificates/{id}/csr', () => {
  it('issues, stores a version and activates the certificate', async () => {
    const id = await newCertificate(world.server, `byo-${world.inv.suffix}`, {
      sans: [`byo-${world.inv.suffix}.example.test`, `alt-${world.inv.suffix}.example.test`, '192.0.2.10'],
    });
    const res = await post(world.server, `/api/v1/certificates/${id}/csr`, { csr_pem: ecCsr('ignored.example.test') });
    expect(res.status, await res.clone().text()).toBe(201);
    const issued = (await res.json()) as Issued;
    expect(verifyChain(issued.certificate_pem, issued.chain_pem)).toMatch(/: OK/);
    expect(issued.serial_number).toMatch(/^[1-9a-f][0-9a-f]{0,39}$/);
    const x509text = execFileSync('openssl', ['x509', '-noout', '-text'], { input: issued.certificate_pem, encoding: 'utf8' });
    // Names come from the managed certificate, not from the CSR.
    expect(x509text).toContain(`CN = byo-${world.inv.suffix}.example.test`);
    expect(x509text).toContain(`DNS:alt-${world.inv.suffix}.example.test`);
    expect(x509text).toContain('IP Address:192.0.2.10');
    expect(x509text).not.toContain('ignored.example.test');
    expect(x509text).toMatch(/CRL Distribution Points[\s\S]*\/\.well-known\/pki\/crl\//);
    // Backdated by a minute; 90 days by default.
    const notBefore = new Date(issued.not_before).getTime();
    expect(Date.now() - notBefore).toBeGreaterThanOrEqual(59_000);
    expect(new Date(issued.not_after).getTime() - notBefore).toBeCloseTo(90 * 86_400_000 + 60_000, -4);

    const cert = (await (await world.server.request(`/api/v1/certificates/${id}`)).json()) as { status: string; expires_at: string };
    expect(cert.status).toBe('Active');
    expect(cert.expires_at).toBe(issued.not_after);
    const versions = (await (await world.server.request(`/api/v1/certificates/${id}/versions`)).json()) as {
      data: Array<{ id: string; serial_number: string; pem_chain: string; fingerprint_sha256: string; key_algorithm: string; key_size: number }>;
    };
    expect(versions.data[0]).toMatchObject({
      id: issued.version_id,
      serial_number: issued.serial_number,
      fingerprint_sha256: issued.fingerprint_sha256,
      key_algorithm: 'ECDSA',
      key_size: 256,
    });
    expect(versions.data[0]!.pem_chain).toBe(issued.certificate_pem + issued.chain_pem);
    const audit = (await (await world.server.request(`/api/v1/audit?action=certificate_issued&resource_id=${id}`)).json()) as { total: number };
    expect(audit.total).toBe(1);
  });

  it('enforces the profile with a 400 saying what failed', async () => {
    const profile = (await (
      await post(world.server, '/api/v1/profiles', {
        name: `strict-${world.inv.suffix}`,
        allowed_key_algorithms: [{ algorithm: 'ECDSA', min_size: 256 }],
        san_patterns: ['*.example.test'],
        max_ttl_seconds: 86_400,
        allowed_ekus: ['clientAuth'],
      })
    ).json()) as { id: string };
    const ok = await newCertificate(world.server, `strict-ok-${world.inv.suffix}`, { certificate_profile_id: profile.id });
    const rsa = await post(world.server, `/api/v1/certificates/${ok}/csr`, { csr_pem: rsaCsr('x') });
    expect(rsa.status).toBe(400);
    expect(((await rsa.json()) as { message: string }).message).toMatch(/^profile: key RSA 2048 is not allowed by the profile \(allowed: ECDSA >= 256\)/);

    const issued = (await (await post(world.server, `/api/v1/certificates/${ok}/csr`, { csr_pem: ecCsr('x') })).json()) as Issued;
    expect(new Date(issued.not_after).getTime() - new Date(issued.not_before).getTime()).toBe(
      86_400_000 + 60_000 - (new Date(issued.not_before).getTime() % 1000),
    );
    expect(execFileSync('openssl', ['x509', '-noout', '-ext', 'extendedKeyUsage'], { input: issued.certificate_pem, encoding: 'utf8' })).toMatch(
      /TLS Web Client Authentication/,
    );

    const outside = await newCertificate(world.server, `strict-bad-${world.inv.suffix}`, { certificate_profile_id: profile.id, common_name: 'www.other.test' });
    const names = await post(world.server, `/api/v1/certificates/${outside}/csr`, { csr_pem: ecCsr('x') });
    expect(names.status).toBe(400);
    expect(((await names.json()) as { message: string }).message).toMatch(/^profile: name www\.other\.test does not match the profile's san_patterns/);
  });

  it('rejects malformed and forged CSRs, and archived certificates', async () => {
    const id = await newCertificate(world.server, `bad-csr-${world.inv.suffix}`);
    const garbage = await post(world.server, `/api/v1/certificates/${id}/csr`, { csr_pem: 'not a csr' });
    expect(garbage.status).toBe(400);
    expect(((await garbage.json()) as { message: string }).message).toMatch(/^csr_pem: /);
    const pem = ecCsr('forged.example.test');
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    der[der.indexOf(Buffer.from('forged'))] = 'F'.charCodeAt(0);
    const forged = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    const bad = await post(world.server, `/api/v1/certificates/${id}/csr`, { csr_pem: forged });
    expect(((await bad.json()) as { message: string }).message).toBe('csr_pem: the request signature does not verify with its public key');
    expect((await post(world.server, '/api/v1/certificates/cert-missing/csr', { csr_pem: ecCsr('x') })).status).toBe(404);
    await world.server.request(`/api/v1/certificates/${id}`, { method: 'DELETE' });
    expect((await post(world.server, `/api/v1/certificates/${id}/csr`, { csr_pem: ecCsr('x') })).status).toBe(409);
  });

  it('keeps one CA per issuer across restarts, with its key encrypted at rest', async () => {
    const first = (await (
      await post(world.server, `/api/v1/certificates/${await newCertificate(world.server, `persist-a-${world.inv.suffix}`)}/csr`, { csr_pem: ecCsr('x') })
    ).json()) as Issued;
    const config = loadConfig({
      DATABASE_URL: world.server.db.url,
      CERTFLEET_PORT: '0',
      CERTFLEET_ENCRYPTION_KEY: testEncryptionKey,
      CERTFLEET_WORKER_THREADS: '1',
    });
    const again = await startApp(config, memoryLogger('warn').log);
    try {
      const certId = await newCertificate(world.server, `persist-b-${world.inv.suffix}`);
      const res = await fetch(`${again.url}/api/v1/certificates/${certId}/csr`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer test-admin-key-0123456789abcdef` },
        body: JSON.stringify({ csr_pem: ecCsr('x') }),
      });
      expect(res.status).toBe(201);
      expect(((await res.json()) as Issued).chain_pem).toBe(first.chain_pem);
    } finally {
      await again.close();
    }
    const { rows } = await world.sql.query('SELECT private_key_encrypted FROM ca_keys WHERE issuer_id = $1', [world.inv.issuerId]);
    const sealed = rows[0].private_key_encrypted as Buffer;
    expect(() => createPrivateKey({ key: sealed, format: 'der', type: 'pkcs8' })).toThrow();
    expect(() => createPrivateKey({ key: sealed.subarray(28), format: 'der', type: 'pkcs8' })).toThrow();
  });
});

describe('RSA CAs', () => {
  it('generates the CA with config.ca_key_algorithm and signs with it', async () => {
    const issuer = (await (
      await post(world.server, '/api/v1/issuers', {
        name: `rsa-${world.inv.suffix}`,
        type: 'local',
        config: { ca_key_algorithm: 'RSA-2048', ca_common_name: 'RSA Test CA' },
      })
    ).json()) as { id: string };
    const id = await newCertificate(world.server, `rsa-ca-${world.inv.suffix}`, { issuer_id: issuer.id });
    const res = await post(world.server, `/api/v1/certificates/${id}/csr`, { csr_pem: ecCsr('x') });
    expect(res.status, await res.clone().text()).toBe(201);
    const issued = (await res.json()) as Issued;
    expect(verifyChain(issued.certificate_pem, issued.chain_pem)).toMatch(/: OK/);
    const caText = execFileSync('openssl', ['x509', '-noout', '-text'], { input: issued.chain_pem, encoding: 'utf8' });
    expect(caText).toMatch(/Public-Key: \(2048 bit\)/);
    expect(execFileSync('openssl', ['x509', '-noout', '-text'], { input: issued.certificate_pem, encoding: 'utf8' })).toMatch(
      /Signature Algorithm: sha256WithRSAEncryption/,
    );
  });
});

describe('a configured CA (sub-CA under an enterprise root)', () => {
  it('signs with CERTFLEET_CA_CERT_PATH / CERTFLEET_CA_KEY_PATH; chains verify to the root', async () => {
    const f = (n: string) => path.join(dir, n);
    openssl([
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '30',
      '-subj',
      '/CN=Enterprise Root',
      '-keyout',
      f('root.key'),
      '-out',
      f('root.pem'),
    ]);
    openssl([
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-subj',
      '/CN=certfleet Sub CA',
      '-keyout',
      f('sub.key'),
      '-out',
      f('sub.csr'),
    ]);
    fs.writeFileSync(f('sub.ext'), 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n');
    openssl([
      'x509',
      '-req',
      '-in',
      f('sub.csr'),
      '-CA',
      f('root.pem'),
      '-CAkey',
      f('root.key'),
      '-CAcreateserial',
      '-days',
      '20',
      '-extfile',
      f('sub.ext'),
      '-out',
      f('sub.pem'),
    ]);
    const sub = await startTestServer({ CERTFLEET_CA_CERT_PATH: f('sub.pem'), CERTFLEET_CA_KEY_PATH: f('sub.key') });
    try {
      const subInv = await seedInventory(sub.db.url);
      const created = (await (await post(sub, '/api/v1/certificates', certificateBody(subInv, `sub-${subInv.suffix}`))).json()) as { id: string };
      const res = await post(sub, `/api/v1/certificates/${created.id}/csr`, { csr_pem: ecCsr('x') });
      expect(res.status).toBe(201);
      const issued = (await res.json()) as Issued;
      expect(issued.chain_pem).toBe(fs.readFileSync(f('sub.pem'), 'utf8').replace(/\r/g, '').trim() + '\n');
      expect(verifyChain(issued.certificate_pem, fs.readFileSync(f('root.pem'), 'utf8'), f('sub.pem'))).toMatch(/: OK/);
      // The CA's validity bounds the leaf: 20 days, not the default 90.
      expect(new Date(issued.not_after).getTime()).toBeLessThan(Date.now() + 21 * 86_400_000);
    } finally {
      await sub.close();
    }
  });
});
