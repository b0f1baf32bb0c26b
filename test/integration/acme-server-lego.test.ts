/**
 * Debian's lego (4.9, Go: the same x/crypto-style client family as cert-manager and Traefik)
 * against certfleet's ACME server through a profile's own directory (/acme/{profile}/directory),
 * over real HTTP on loopback: `run` with lego's own http-01
 * server, `renew` with its tls-alpn-01 server (a P-384 key this time), `revoke`. lego puts the
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
import { seedInventory, withClient } from '../support/fixtures.ts';
import { freePort } from '../support/free-port.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;
let chall: ChallTestSrv;
let dir: string;
let http01Port: number;
let tlsAlpn01Port: number;
/** lego 4.9 cannot send `profile`: it picks the profile by directory URL. */
let profileName: string;

beforeAll(async () => {
  chall = await startChallTestSrv({ responders: false });
  [http01Port, tlsAlpn01Port] = [await freePort(), await freePort()];
  server = await startTestServer({
    CERTFLEET_ACME_VALIDATION_ALLOW_LOOPBACK: 'true',
    CERTFLEET_ACME_HTTP01_PORT: String(http01Port),
    CERTFLEET_ACME_TLSALPN01_PORT: String(tlsAlpn01Port),
    CERTFLEET_ACME_DNS_RESOLVER: `127.0.0.1:${chall.dnsPort}`,
  });
  const inv = await seedInventory(server.db.url);
  profileName = inv.profileId;
  await withClient(server.db.url, (c) =>
    c.query(
      `UPDATE certificate_profiles SET acme_issuer_id = $2, acme_owner_id = $3, acme_team_id = $4, acme_renewal_policy_id = $5, description = 'lego'
        WHERE id = $1`,
      [inv.profileId, inv.issuerId, inv.ownerId, inv.teamId, inv.policyId],
    ),
  );
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-lego-'));
}, 60_000);
afterAll(async () => {
  await server?.close();
  await chall?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** `domains`: what lego orders (run, renew); revoke names the certificate by its first domain only. */
async function lego(domains: string[], ...args: string[]): Promise<string> {
  const common = ['--server', `${server.url}/acme/${profileName}/directory`, '--path', dir, '--email', 'ops@example.test', '--accept-tos'];
  common.push(...domains.flatMap((d) => ['--domains', d]));
  try {
    const { stdout, stderr } = await promisify(execFile)('lego', [...common, ...args], { timeout: 90_000 });
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
});
