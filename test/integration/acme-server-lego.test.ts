/**
 * Debian's lego (4.9, Go: the same x/crypto-style client family as cert-manager and Traefik)
 * against certfleet's ACME server through a profile's own directory (/acme/{profile}/directory),
 * over real HTTPS on loopback (a test CA lego trusts): `run` with lego's own http-01
 * server, `renew` with its tls-alpn-01 server (a P-384 key this time), `revoke`; a wildcard
 * with dns-01 through lego's exec DNS provider. lego puts the
 * first name in the CSR's CN. pebble-challtestsrv is the DNS that sends validations to lego.
 * lego is installed by scripts/install-test-deps.sh.
 */
import { execFile, execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChallTestSrv, type ChallTestSrv } from '../support/challtestsrv.ts';
import { seedInventory, withClient, type Inventory } from '../support/fixtures.ts';
import { freePort } from '../support/free-port.ts';
import { eabKey, trustingProfile } from '../support/admin-api.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { makeTlsCertificate, type TlsCertificate } from '../support/tls-certificate.ts';

let server: TestServer;
let chall: ChallTestSrv;
let dir: string;
/** The server speaks HTTPS with a certificate from this test CA, which the client is told to trust. */
let tls: TlsCertificate;
let http01Port: number;
let tlsAlpn01Port: number;
/** lego 4.9 cannot send `profile`: it picks the profile by directory URL. */
let profileName: string;
let inv: Inventory;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-lego-'));
  tls = makeTlsCertificate(path.join(dir, 'tls'));
  chall = await startChallTestSrv({ responders: false });
  [http01Port, tlsAlpn01Port] = [await freePort(), await freePort()];
  server = await startTestServer({
    CERTFLEET_TLS_CERT_PATH: tls.certPath,
    CERTFLEET_TLS_KEY_PATH: tls.keyPath,
    CERTFLEET_ACME_VALIDATION_ALLOW_LOOPBACK: 'true',
    CERTFLEET_ACME_HTTP01_PORT: String(http01Port),
    CERTFLEET_ACME_TLSALPN01_PORT: String(tlsAlpn01Port),
    CERTFLEET_ACME_DNS_RESOLVER: `127.0.0.1:${chall.dnsPort}`,
  });
  expect(server.url).toMatch(/^https:\/\//);
  inv = await seedInventory(server.db.url);
  profileName = inv.profileId;
  await withClient(server.db.url, (c) =>
    c.query(
      `UPDATE certificate_profiles SET acme_issuer_id = $2, acme_owner_id = $3, acme_team_id = $4, acme_renewal_policy_id = $5, description = 'lego'
        WHERE id = $1`,
      [inv.profileId, inv.issuerId, inv.ownerId, inv.teamId, inv.policyId],
    ),
  );
}, 60_000);
afterAll(async () => {
  await server?.close();
  await chall?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** `domains`: what lego orders (run, renew); revoke names the certificate by its first domain only. */
function lego(domains: string[], ...args: string[]): Promise<string> {
  return legoWith({}, domains, ...args);
}

/** `where`: another profile's directory and account store (lego keeps one account per server host and email). */
async function legoWith(env: Record<string, string>, domains: string[], ...args: string[]): Promise<string> {
  return legoAt({ profile: profileName, path: dir, email: 'ops@example.test' }, env, domains, ...args);
}

async function legoAt(
  where: { profile: string; path: string; email: string },
  env: Record<string, string>,
  domains: string[],
  ...args: string[]
): Promise<string> {
  const common = ['--server', `${server.url}/acme/${where.profile}/directory`, '--path', where.path, '--email', where.email, '--accept-tos'];
  common.push(...domains.flatMap((d) => ['--domains', d]));
  try {
    const { stdout, stderr } = await promisify(execFile)('lego', [...common, ...args], {
      timeout: 90_000,
      env: { ...process.env, LEGO_CA_CERTIFICATES: tls.caPath, ...env },
    });
    return `${stdout}${stderr}`;
  } catch (err) {
    const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string };
    throw new Error(`lego ${args.join(' ')} failed:\n${stdout}${stderr}`);
  }
}

const names = ['lego.example.test', 'www.lego.example.test'];

describe('lego against the ACME server', () => {
  it('issues with http-01, renews with tls-alpn-01 and revokes', async () => {
    await lego(names, '--http', '--http.port', `127.0.0.1:${http01Port}`, 'run');
    const certFile = path.join(dir, 'certificates', 'lego.example.test.crt');
    const first = new X509Certificate(fs.readFileSync(certFile));
    expect(first.subjectAltName).toBe('DNS:lego.example.test, DNS:www.lego.example.test');
    expect(first.subject).toBe('CN=lego.example.test');
    const issuerFile = path.join(dir, 'certificates', 'lego.example.test.issuer.crt');
    expect(execFileSync('openssl', ['verify', '-CAfile', issuerFile, certFile]).toString()).toMatch(/: OK/);

    await lego(names, '--tls', '--tls.port', `127.0.0.1:${tlsAlpn01Port}`, '--key-type', 'ec384', 'renew', '--days', '400', '--no-random-sleep');
    const second = new X509Certificate(fs.readFileSync(certFile));
    expect(second.serialNumber).not.toBe(first.serialNumber);
    expect(second.publicKey.asymmetricKeyDetails?.namedCurve).toBe('secp384r1');

    await lego(names.slice(0, 1), 'revoke');
    const revoked = await withClient(server.db.url, (c) =>
      c.query<{ n: number }>('SELECT count(*)::int AS n FROM certificate_revocations WHERE serial_number = $1', [
        second.serialNumber.toLowerCase().replace(/^0+/, ''),
      ]),
    );
    expect(revoked.rows[0]!.n).toBe(1);
  }, 180_000);

  it('issues a wildcard with dns-01, its records set by lego through the exec provider', async () => {
    // lego's exec provider runs this with "present|cleanup <fqdn> <value>".
    const script = path.join(dir, 'dns-exec.sh');
    fs.writeFileSync(
      script,
      `#!/bin/sh\n[ "$1" = present ] || exit 0\nexec curl -sf -X POST -d "{\\"host\\":\\"$2\\",\\"value\\":\\"$3\\"}" ${chall.managementUrl}/set-txt\n`,
      { mode: 0o755 },
    );
    const wildcard = ['*.wild.example.test', 'wild.example.test'];
    // EXEC_SEQUENCE_INTERVAL: lego waits this long between the two records of one name (60 s by default).
    const env = { EXEC_PATH: script, EXEC_PROPAGATION_TIMEOUT: '10', EXEC_POLLING_INTERVAL: '1', EXEC_SEQUENCE_INTERVAL: '1' };
    await legoWith(env, wildcard, '--dns', 'exec', '--dns.disable-cp', '--dns.resolvers', `127.0.0.1:${chall.dnsPort}`, 'run');
    const cert = new X509Certificate(fs.readFileSync(path.join(dir, 'certificates', '_.wild.example.test.crt')));
    expect(cert.subjectAltName).toBe('DNS:*.wild.example.test, DNS:wild.example.test');
  }, 120_000);

  it('issues under a trusting profile with an EAB-bound account, skipping the valid authorizations that list no challenge', async () => {
    await trustingProfile(server.url, 'lego-trusted', 'trusted.example.test', inv, tls.caPem);
    const eab = await eabKey(server.url, 'lego-trusted', tls.caPem);
    const where = { profile: 'lego-trusted', path: path.join(dir, 'trusted'), email: 'trusted@example.test' };
    // lego insists on a solver; nothing connects to it, since no authorization is pending.
    const solver = ['--http', '--http.port', `127.0.0.1:${http01Port}`];
    const output = await legoAt(where, {}, ['svc.trusted.example.test'], '--eab', `--kid=${eab.kid}`, `--hmac=${eab.hmacKey}`, ...solver, 'run');
    expect(output).toMatch(/already valid; skipping challenge/);
    const cert = new X509Certificate(fs.readFileSync(path.join(where.path, 'certificates', 'svc.trusted.example.test.crt')));
    expect(cert.subjectAltName).toBe('DNS:svc.trusted.example.test');
  }, 120_000);
});
