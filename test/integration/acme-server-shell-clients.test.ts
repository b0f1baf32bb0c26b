/**
 * Three more of Debian's ACME clients against certfleet's ACME server, each a real process over
 * real HTTP on loopback: dehydrated (bash and curl), uacme (C, libcurl) and acme-tiny (Python's
 * urllib, about 200 lines). They are smaller than certbot and lego and lean on the protocol's
 * details in their own ways (headers read with grep, nonces taken from new-nonce, the order
 * polled by GET or POST-as-GET). Each proves a name with http-01, its answer served from the
 * directory the client writes to; pebble-challtestsrv is the DNS that sends the validation here.
 * The clients are installed by scripts/install-test-deps.sh.
 */
import { execFile } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChallTestSrv, type ChallTestSrv } from '../support/challtestsrv.ts';
import { seedInventory, withClient } from '../support/fixtures.ts';
import { freePort } from '../support/free-port.ts';
import { eabKey, trustingProfile } from '../support/admin-api.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;
let chall: ChallTestSrv;
let dir: string;
/** Where the clients write their http-01 answers, served at http01Port as /.well-known/acme-challenge/. */
let webroot: string;
let webServer: http.Server;
/** The directory of the profile that validates challenges (a second profile trusts EAB-bound accounts). */
let directoryUrl: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-shell-clients-'));
  webroot = path.join(dir, 'webroot');
  fs.mkdirSync(webroot);
  chall = await startChallTestSrv({ responders: false });
  const http01Port = await freePort();
  webServer = http.createServer((req, res) => {
    const token = /^\/\.well-known\/acme-challenge\/([A-Za-z0-9_-]+)$/.exec(req.url ?? '')?.[1];
    const file = token ? path.join(webroot, token) : '';
    if (!file || !fs.existsSync(file)) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/plain' }).end(fs.readFileSync(file));
  });
  await new Promise<void>((resolve) => webServer.listen(http01Port, '127.0.0.1', resolve));
  server = await startTestServer({
    CERTFLEET_ACME_VALIDATION_ALLOW_LOOPBACK: 'true',
    CERTFLEET_ACME_HTTP01_PORT: String(http01Port),
    CERTFLEET_ACME_DNS_RESOLVER: `127.0.0.1:${chall.dnsPort}`,
  });
  const inv = await seedInventory(server.db.url);
  await withClient(server.db.url, (c) =>
    c.query(`UPDATE certificate_profiles SET acme_issuer_id = $2, acme_owner_id = $3, acme_team_id = $4, acme_renewal_policy_id = $5 WHERE id = $1`, [
      inv.profileId,
      inv.issuerId,
      inv.ownerId,
      inv.teamId,
      inv.policyId,
    ]),
  );
  await trustingProfile(server.url, 'shell-trust', 'trusted.shell.test', inv);
  directoryUrl = `${server.url}/acme/${inv.profileId}/directory`;
}, 60_000);
afterAll(async () => {
  await server?.close();
  await chall?.stop();
  await new Promise((resolve) => webServer?.close(resolve));
  fs.rmSync(dir, { recursive: true, force: true });
});

async function run(command: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  try {
    const { stdout, stderr } = await promisify(execFile)(command, args, { timeout: 60_000, env: { ...process.env, ...env } });
    return `${stdout}${stderr}`;
  } catch (err) {
    const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed:\n${stdout}${stderr}`);
  }
}

/** The leaf of a PEM chain, checked against the names asked for and chained to the CA after it. */
function expectLeaf(chainPem: string, names: string[]): X509Certificate {
  const pems = chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  expect(pems.length).toBeGreaterThanOrEqual(2);
  const leaf = new X509Certificate(pems[0]!);
  for (const name of names) expect(leaf.subjectAltName).toContain(`DNS:${name}`);
  expect(leaf.verify(new X509Certificate(pems[1]!).publicKey)).toBe(true);
  return leaf;
}

/** Versions stored with exactly this leaf (by the SHA-256 of its DER). */
async function storedVersions(leaf: X509Certificate): Promise<number> {
  const fingerprint = createHash('sha256').update(leaf.raw).digest('hex');
  const { rows } = await withClient(server.db.url, (c) =>
    c.query('SELECT count(*)::int AS n FROM certificate_versions WHERE fingerprint_sha256 = $1', [fingerprint]),
  );
  return (rows[0] as { n: number }).n;
}

describe('dehydrated', () => {
  function dehydrated(config: string, ...args: string[]): Promise<string> {
    return run('dehydrated', ['--config', config, ...args]);
  }
  function configFile(name: string, lines: string[]): string {
    const base = path.join(dir, name);
    fs.mkdirSync(base, { recursive: true });
    const file = path.join(base, 'config');
    fs.writeFileSync(file, [`BASEDIR="${base}"`, `WELLKNOWN="${webroot}"`, 'KEY_ALGO=prime256v1', 'CHALLENGETYPE="http-01"', ...lines, ''].join('\n'));
    return file;
  }

  it('registers, issues with http-01 and renews with --force', async () => {
    const config = configFile('dehydrated', [`CA="${directoryUrl}"`]);
    expect(await dehydrated(config, '--register', '--accept-terms')).toMatch(/Done!/);
    const first = await dehydrated(config, '--cron', '--domain', 'www.dehydrated.test', '--domain', 'api.dehydrated.test');
    expect(first).toMatch(/Challenge is valid!/);
    const certPath = path.join(dir, 'dehydrated', 'certs', 'www.dehydrated.test', 'fullchain.pem');
    const leaf = expectLeaf(fs.readFileSync(certPath, 'utf8'), ['www.dehydrated.test', 'api.dehydrated.test']);
    expect(await storedVersions(leaf)).toBe(1);
    await dehydrated(config, '--cron', '--force', '--domain', 'www.dehydrated.test', '--domain', 'api.dehydrated.test');
    const renewed = expectLeaf(fs.readFileSync(certPath, 'utf8'), ['www.dehydrated.test']);
    expect(renewed.serialNumber).not.toBe(leaf.serialNumber);
  });

  it('binds its account with EAB and issues under a trusting profile without a challenge', async () => {
    const eab = await eabKey(server.url, 'dehydrated');
    const config = configFile('dehydrated-eab', [`CA="${server.url}/acme/shell-trust/directory"`, `EAB_KID="${eab.kid}"`, `EAB_HMAC_KEY="${eab.hmacKey}"`]);
    await dehydrated(config, '--register', '--accept-terms');
    const output = await dehydrated(config, '--cron', '--domain', 'app.trusted.shell.test');
    expect(output).not.toMatch(/Challenge is valid/); // nothing to prove: the authorization was valid
    expectLeaf(fs.readFileSync(path.join(dir, 'dehydrated-eab', 'certs', 'app.trusted.shell.test', 'fullchain.pem'), 'utf8'), ['app.trusted.shell.test']);
  });
});

describe('uacme', () => {
  /** uacme's hook: answers http-01 by writing the key authorization where the web server reads it, declines the rest. */
  function hookScript(): string {
    const hook = path.join(dir, 'uacme-hook.sh');
    fs.writeFileSync(
      hook,
      `#!/bin/sh\n# method type ident token key_auth\n[ "$2" = "http-01" ] || exit 1\ncase "$1" in\n  begin) printf '%s' "$5" > "${webroot}/$4" ;;\n  *) rm -f "${webroot}/$4" ;;\nesac\n`,
      { mode: 0o755 },
    );
    return hook;
  }

  it('creates its account, issues with http-01 and revokes', async () => {
    const confdir = path.join(dir, 'uacme');
    const common = ['--confdir', confdir, '--acme-url', directoryUrl, '--type', 'EC', '--bits', '256', '--yes'];
    await run('uacme', [...common, 'new']);
    await run('uacme', [...common, '--hook', hookScript(), 'issue', 'www.uacme.test', 'api.uacme.test']);
    const certPath = path.join(confdir, 'www.uacme.test', 'cert.pem');
    const leaf = expectLeaf(fs.readFileSync(certPath, 'utf8'), ['www.uacme.test', 'api.uacme.test']);
    expect(await storedVersions(leaf)).toBe(1);
    await run('uacme', [...common, 'revoke', certPath]);
    const fingerprint = createHash('sha256').update(leaf.raw).digest('hex');
    const { rows } = await withClient(server.db.url, (c) =>
      c.query(
        `SELECT count(*)::int AS n FROM certificate_revocations r JOIN certificate_versions v ON v.serial_number = r.serial_number AND v.certificate_id = r.certificate_id
          WHERE v.fingerprint_sha256 = $1`,
        [fingerprint],
      ),
    );
    expect((rows[0] as { n: number }).n).toBe(1);
  });

  it('binds its account with EAB (-e KID:KEY) and issues under a trusting profile', async () => {
    const eab = await eabKey(server.url, 'uacme');
    const confdir = path.join(dir, 'uacme-eab');
    const common = ['--confdir', confdir, '--acme-url', `${server.url}/acme/shell-trust/directory`, '--type', 'EC', '--bits', '256', '--yes'];
    await run('uacme', [...common, '--eab', `${eab.kid}:${eab.hmacKey}`, 'new']);
    // No hook: a challenge asked for would fail the issue.
    await run('uacme', [...common, 'issue', 'app.trusted.shell.test']);
    expectLeaf(fs.readFileSync(path.join(confdir, 'app.trusted.shell.test', 'cert.pem'), 'utf8'), ['app.trusted.shell.test']);
  });
});

describe('acme-tiny', () => {
  it('issues for a CSR made by openssl, with http-01', async () => {
    const base = path.join(dir, 'acme-tiny');
    fs.mkdirSync(base);
    const accountKey = path.join(base, 'account.key');
    const domainKey = path.join(base, 'domain.key');
    const csr = path.join(base, 'domain.csr');
    await run('openssl', ['genrsa', '-out', accountKey, '2048']);
    await run('openssl', [
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      domainKey,
      '-subj',
      '/CN=www.tiny.test',
      '-addext',
      'subjectAltName=DNS:www.tiny.test,DNS:api.tiny.test',
      '-out',
      csr,
    ]);
    const chain = await promisify(execFile)(
      'acme-tiny',
      ['--account-key', accountKey, '--csr', csr, '--acme-dir', webroot, '--disable-check', '--directory-url', directoryUrl],
      { timeout: 60_000 },
    ).catch((err: { stderr?: string }) => {
      throw new Error(`acme-tiny failed:\n${err.stderr ?? String(err)}`);
    });
    const leaf = expectLeaf(chain.stdout, ['www.tiny.test', 'api.tiny.test']);
    expect(await storedVersions(leaf)).toBe(1);
  });
});
