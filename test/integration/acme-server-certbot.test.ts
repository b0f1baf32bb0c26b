/**
 * Debian's certbot (2.1) against certfleet's ACME server, each step a real certbot process over
 * real HTTPS on loopback (a test CA the client trusts): an account's life (register, show, update, deactivate), and a
 * certificate's (certonly with its standalone http-01 server, renew, revoke with the account key
 * and with the certificate key). pebble-challtestsrv is the DNS that sends the validation to
 * certbot's listener. certbot is installed by scripts/install-test-deps.sh.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
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
/** Where certbot's standalone server listens for http-01, and where certfleet validates. */
let http01Port: number;
let inv: Inventory;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-certbot-'));
  tls = makeTlsCertificate(path.join(dir, 'tls'));
  chall = await startChallTestSrv({ responders: false });
  http01Port = await freePort();
  server = await startTestServer({
    CERTFLEET_TLS_CERT_PATH: tls.certPath,
    CERTFLEET_TLS_KEY_PATH: tls.keyPath,
    CERTFLEET_ACME_VALIDATION_ALLOW_LOOPBACK: 'true',
    CERTFLEET_ACME_HTTP01_PORT: String(http01Port),
    CERTFLEET_ACME_DNS_RESOLVER: `127.0.0.1:${chall.dnsPort}`,
  });
  expect(server.url).toMatch(/^https:\/\//);
  inv = await seedInventory(server.db.url);
  await withClient(server.db.url, (c) =>
    c.query(
      `UPDATE certificate_profiles SET acme_issuer_id = $2, acme_owner_id = $3, acme_team_id = $4, acme_renewal_policy_id = $5, description = 'certbot'
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

function certbot(...args: string[]): Promise<string> {
  return certbotAt(`${server.url}/acme/directory`, ...args);
}

async function certbotAt(directoryUrl: string, ...args: string[]): Promise<string> {
  const common = ['--config-dir', path.join(dir, 'config'), '--work-dir', path.join(dir, 'work'), '--logs-dir', path.join(dir, 'logs')];
  try {
    const { stdout, stderr } = await promisify(execFile)('certbot', [...args, ...common, '--non-interactive', '--server', directoryUrl], {
      timeout: 60_000,
      env: { ...process.env, REQUESTS_CA_BUNDLE: tls.caPath },
    });
    return `${stdout}${stderr}`;
  } catch (err) {
    const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string };
    const log = fs
      .readFileSync(path.join(dir, 'logs', 'letsencrypt.log'), 'utf8')
      .split('\n')
      .slice(-60)
      .join('\n');
    throw new Error(`certbot ${args.join(' ')} failed:\n${stdout}${stderr}\n--- letsencrypt.log (end) ---\n${log}`);
  }
}

describe('certbot against the ACME server', () => {
  it('registers, shows, updates and deactivates an account', async () => {
    expect(await certbot('register', '--agree-tos', '--email', 'ops@example.test', '--no-eff-email')).toMatch(/Account registered/);
    const shown = await certbot('show_account');
    const accountUrl = /Account URL: (\S+)/.exec(shown)?.[1];
    expect(accountUrl).toMatch(new RegExp(`^${server.url}/acme/acct/acct-`));
    expect(shown).toMatch(/Email contact: ops@example.test/);

    expect(await certbot('update_account', '--email', 'pki@example.test')).toMatch(/updated to pki@example.test/);
    expect(await certbot('show_account')).toMatch(/Email contact: pki@example.test/);

    expect(await certbot('unregister')).toMatch(/Account deactivated/);
    const row = await withClient(server.db.url, (c) =>
      c.query<{ status: string; contact: string[]; tos_agreed: boolean }>('SELECT status, contact, tos_agreed FROM acme_accounts WHERE id = $1', [
        accountUrl!.split('/').pop(),
      ]),
    );
    expect(row.rows[0]).toEqual({ status: 'deactivated', contact: ['mailto:pki@example.test'], tos_agreed: true });
  }, 120_000);

  it('issues, renews and revokes a certificate (account key, then certificate key)', async () => {
    const name = 'certbot.example.test';
    const standalone = ['--standalone', '--http-01-port', String(http01Port), '--http-01-address', '127.0.0.1'];
    const issued = await certbot('certonly', ...standalone, '-d', name, '--agree-tos', '--email', 'ops@example.test', '--no-eff-email');
    expect(issued).toMatch(/Successfully received certificate/);
    const live = path.join(dir, 'config', 'live', name);
    const first = new X509Certificate(fs.readFileSync(path.join(live, 'cert.pem')));
    expect(first.subjectAltName).toBe(`DNS:${name}`);
    expect(execFileSync('openssl', ['verify', '-CAfile', path.join(live, 'chain.pem'), path.join(live, 'cert.pem')]).toString()).toMatch(/: OK/);
    // The certificate's key is certbot's own, never sent anywhere.
    expect(first.checkPrivateKey(createPrivateKey(fs.readFileSync(path.join(live, 'privkey.pem'))))).toBe(true);

    expect(await certbot('renew', '--force-renewal', '--no-random-sleep-on-renew', ...standalone)).toMatch(/Congratulations, all renewals succeeded/);
    const second = new X509Certificate(fs.readFileSync(path.join(live, 'cert.pem')));
    expect(second.serialNumber).not.toBe(first.serialNumber);

    // The first certificate, revoked with its own key (the jwk path, RFC 8555 7.6).
    const archive = path.join(dir, 'config', 'archive', name);
    expect(
      await certbot(
        'revoke',
        '--cert-path',
        path.join(archive, 'cert1.pem'),
        '--key-path',
        path.join(archive, 'privkey1.pem'),
        '--reason',
        'keycompromise',
        '--no-delete-after-revoke',
      ),
    ).toMatch(/Congratulations! You have successfully revoked/);
    // The current one, with the account key (kid).
    expect(await certbot('revoke', '--cert-name', name, '--reason', 'superseded', '--no-delete-after-revoke')).toMatch(/successfully revoked/);
    const rows = await withClient(server.db.url, (c) =>
      c.query<{ serial_number: string; reason: string }>(
        `SELECT r.serial_number, r.reason FROM certificate_revocations r JOIN certificates c ON c.id = r.certificate_id WHERE c.source = 'ACME' ORDER BY r.revoked_at`,
      ),
    );
    const canonical = (serial: string) => serial.toLowerCase().replace(/^0+/, '');
    expect(rows.rows).toEqual([
      { serial_number: canonical(first.serialNumber), reason: 'keyCompromise' },
      { serial_number: canonical(second.serialNumber), reason: 'superseded' },
    ]);
  }, 180_000);

  it('issues under a trusting profile with an EAB-bound account, skipping the valid authorization that lists no challenge', async () => {
    await trustingProfile(server.url, 'certbot-trusted', 'trusted.example.test', inv, tls.caPem);
    const eab = await eabKey(server.url, 'certbot-trusted', tls.caPem);
    const name = 'svc.trusted.example.test';
    // The standalone authenticator is configured but never listens: no authorization is pending.
    const standalone = ['--standalone', '--http-01-port', String(http01Port), '--http-01-address', '127.0.0.1'];
    const account = ['--agree-tos', '--email', 'trusted@example.test', '--no-eff-email', `--eab-kid=${eab.kid}`, `--eab-hmac-key=${eab.hmacKey}`];
    const issued = await certbotAt(`${server.url}/acme/certbot-trusted/directory`, 'certonly', ...standalone, '-d', name, ...account);
    expect(issued).toMatch(/Successfully received certificate/);
    const cert = new X509Certificate(fs.readFileSync(path.join(dir, 'config', 'live', name, 'cert.pem')));
    expect(cert.subjectAltName).toBe(`DNS:${name}`);
  }, 120_000);
});
