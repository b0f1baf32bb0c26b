/**
 * The ACME order flow over real HTTP, driven by the npm acme-client: profiles offered over
 * ACME, orders under a trusting profile and under a proving one, http-01, dns-01 (a wildcard)
 * and tls-alpn-01 validated against pebble-challtestsrv (the "internet" on loopback: its DNS
 * answers every name with 127.0.0.1 and its responders serve what a test asks), finalize into
 * the inventory, download, ARI and revocation, each checked with openssl or the database.
 */
import { execFileSync } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import * as acme from 'acme-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEventsOf } from '../support/audit-events.ts';
import { untilTrue } from '../support/until.ts';
import { acmeHttp, expectProblem, jws } from '../support/acme-http.ts';
import { ariCertId } from '../support/ari.ts';
import { startChallTestSrv, type ChallTestSrv } from '../support/challtestsrv.ts';
import { seedInventory, withClient, type Inventory } from '../support/fixtures.ts';
import { accountLabel } from '../../src/acme/validators.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;
let chall: ChallTestSrv;
let inv: Inventory;
let directoryUrl: string;
const { freshNonce, post } = acmeHttp(() => server.url);

beforeAll(async () => {
  chall = await startChallTestSrv({ responders: true });
  server = await startTestServer({
    CERTFLEET_ACME_VALIDATION_ALLOW_LOOPBACK: 'true',
    CERTFLEET_ACME_HTTP01_PORT: String(chall.http01Port),
    CERTFLEET_ACME_TLSALPN01_PORT: String(chall.tlsAlpn01Port),
    CERTFLEET_ACME_DNS_RESOLVER: `127.0.0.1:${chall.dnsPort}`,
    CERTFLEET_ACME_DEFAULT_PROFILE: 'proven',
    CERTFLEET_ACME_VALIDATION_TIMEOUT_SECONDS: '5',
    CERTFLEET_ACME_GC_INTERVAL_SECONDS: '5',
  });
  directoryUrl = `${server.url}/acme/directory`;
  inv = await seedInventory(server.db.url);
  const acmeFields = { acme_issuer_id: inv.issuerId, acme_owner_id: inv.ownerId, acme_team_id: inv.teamId, acme_renewal_policy_id: inv.policyId };
  for (const profile of [
    {
      id: 'trusted',
      name: 'trusted',
      description: 'Any name under trust.test, no challenge',
      san_patterns: ['*.trust.test'],
      acme_auth_mode: 'trust_authenticated',
    },
    { id: 'proven', name: 'proven', description: 'Names proven by a challenge' },
  ]) {
    const res = await server.request('/api/v1/profiles', {
      method: 'POST',
      body: JSON.stringify({ ...profile, ...acmeFields }),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status, await res.clone().text()).toBe(201);
  }
}, 60_000);
afterAll(async () => {
  await server?.close();
  await chall?.stop();
});

/** An account; `bound`: with an external account binding (what a trusting profile requires). */
async function newClient(options: { bound?: boolean } = {}): Promise<acme.Client> {
  let externalAccountBinding: { kid: string; hmacKey: string } | undefined;
  if (options.bound) {
    const res = await server.request('/api/v1/acme/eab-keys', {
      method: 'POST',
      body: JSON.stringify({ name: 'orders test' }),
      headers: { 'content-type': 'application/json' },
    });
    const key = (await res.json()) as { id: string; hmac_key: string };
    externalAccountBinding = { kid: key.id, hmacKey: key.hmac_key };
  }
  const accountKey = await acme.crypto.createPrivateEcdsaKey();
  const client = new acme.Client({
    directoryUrl,
    accountKey,
    backoffAttempts: 20,
    backoffMin: 100,
    backoffMax: 500,
    ...(externalAccountBinding ? { externalAccountBinding } : {}),
  });
  await client.createAccount({ termsOfServiceAgreed: true });
  return client;
}

/** The issuing CA's certificate: the second PEM block of a chain. */
function verifyChain(chainPem: string): X509Certificate {
  const blocks = chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/g) ?? [];
  expect(blocks).toHaveLength(2);
  expect(chainPem.endsWith('-----END CERTIFICATE-----\n')).toBe(true);
  const dir = execFileSync('mktemp', ['-d']).toString().trim();
  execFileSync('sh', ['-c', `cat > ${dir}/ca.pem && true`], { input: blocks[1] });
  execFileSync('sh', ['-c', `cat > ${dir}/leaf.pem`], { input: blocks[0] });
  expect(execFileSync('openssl', ['verify', '-CAfile', `${dir}/ca.pem`, `${dir}/leaf.pem`]).toString()).toMatch(/: OK/);
  return new X509Certificate(blocks[0]!);
}

describe('the directory', () => {
  it('names every resource and lists the profiles offered over ACME', async () => {
    const directory = (await (await fetch(directoryUrl)).json()) as Record<string, unknown>;
    expect(directory).toMatchObject({
      newOrder: `${server.url}/acme/new-order`,
      revokeCert: `${server.url}/acme/revoke-cert`,
      renewalInfo: `${server.url}/acme/renewal-info`,
      meta: { profiles: { proven: 'Names proven by a challenge', trusted: 'Any name under trust.test, no challenge' } },
    });
  });

  it('sees a profile change from the REST API at once', async () => {
    const res = await server.request('/api/v1/profiles/trusted', {
      method: 'PATCH',
      body: JSON.stringify({ description: 'Trusted names' }),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(200);
    const directory = (await (await fetch(directoryUrl)).json()) as { meta: { profiles: Record<string, string> } };
    expect(directory.meta.profiles.trusted).toBe('Trusted names');
  });
});

describe('a profile chosen by its directory URL (clients that cannot send profile)', () => {
  it('serves /acme/{profile}/... entry points whose orders get that profile; resources keep one URL', async () => {
    const profileDirectory = `${server.url}/acme/trusted/directory`;
    const directory = (await (await fetch(profileDirectory)).json()) as Record<string, string>;
    expect(directory.newOrder).toBe(`${server.url}/acme/trusted/new-order`);
    expect(directory.renewalInfo).toBe(`${server.url}/acme/trusted/renewal-info`);
    const res = await server.request('/api/v1/acme/eab-keys', {
      method: 'POST',
      body: JSON.stringify({ name: 'path profile' }),
      headers: { 'content-type': 'application/json' },
    });
    const eab = (await res.json()) as { id: string; hmac_key: string };
    const client = new acme.Client({
      directoryUrl: profileDirectory,
      accountKey: await acme.crypto.createPrivateEcdsaKey(),
      externalAccountBinding: { kid: eab.id, hmacKey: eab.hmac_key },
    });
    await client.createAccount({ termsOfServiceAgreed: true });
    expect(client.getAccountUrl()).toMatch(new RegExp(`^${server.url}/acme/acct/`));
    const order = await client.createOrder({ identifiers: [{ type: 'dns', value: 'path.trust.test' }] });
    expect(order.status).toBe('ready'); // the trusting profile, without naming it
    const conflicting = client.createOrder({ identifiers: [{ type: 'dns', value: 'path.trust.test' }], profile: 'proven' } as acme.Order & { profile: string });
    await expect(conflicting).rejects.toThrow(/under the directory of profile trusted/);
    const unknown = await fetch(`${server.url}/acme/nope/directory`);
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toBe('application/problem+json');
    expect((await fetch(`${server.url}/acme/trusted/new-nonce`, { method: 'HEAD' })).headers.get('link')).toBe(`<${profileDirectory}>;rel="index"`);
  });
});

describe('orders under a trusting profile', () => {
  it('are for accounts bound by EAB only', async () => {
    const unbound = await newClient();
    const order = { identifiers: [{ type: 'dns', value: 'x.trust.test' }], profile: 'trusted' } as acme.Order & { profile: string };
    await expect(unbound.createOrder(order)).rejects.toThrow(/external account binding only/);
  });

  it('are ready at once; finalize issues into the inventory; download, ARI and revoke work', async () => {
    const client = await newClient({ bound: true });
    const order = await client.createOrder({ identifiers: [{ type: 'dns', value: 'App.Trust.test' }], profile: 'trusted' } as acme.Order & { profile: string });
    expect(order.status).toBe('ready');
    expect(order.identifiers).toEqual([{ type: 'dns', value: 'app.trust.test' }]);
    const [authz] = await client.getAuthorizations(order);
    expect(authz).toMatchObject({ status: 'valid', identifier: { type: 'dns', value: 'app.trust.test' } });
    // Nothing was validated, so no challenge is listed (RFC 8555 7.1.4) and none is stored.
    expect(authz!.challenges).toEqual([]);
    const challengeRows = await withClient(server.db.url, (c) =>
      c.query<{ n: number }>('SELECT count(*)::int AS n FROM acme_challenges WHERE authorization_id = $1', [authz!.url.split('/').pop()]),
    );
    expect(challengeRows.rows[0]!.n).toBe(0);

    // A CSR naming another name, or signed by the account key, is badCSR; the order stays ready.
    const [, wrongCsr] = await acme.crypto.createCsr({ commonName: 'app.trust.test', altNames: ['app.trust.test', 'other.trust.test'] });
    await expect(client.finalizeOrder(order, wrongCsr)).rejects.toThrow(/not in the order: other.trust.test/);
    const [, ownKeyCsr] = await acme.crypto.createCsr(
      { commonName: 'app.trust.test' },
      (client as unknown as { opts: { accountKey: Buffer } }).opts.accountKey,
    );
    await expect(client.finalizeOrder(order, ownKeyCsr)).rejects.toThrow(/must not be the account key/);

    const [, csr] = await acme.crypto.createCsr({ altNames: ['app.trust.test'] }); // certbot's shape: no CN
    const finalized = await client.finalizeOrder(order, csr);
    expect(finalized.status).toBe('valid');
    const chain = await client.getCertificate(finalized);
    const leaf = verifyChain(chain);
    expect(leaf.subjectAltName).toBe('DNS:app.trust.test');

    // In the inventory, as ACME's, with the profile's owner and issuer, audited with the account as actor.
    const orderId = finalized.url!.split('/').pop()!;
    const row = await withClient(server.db.url, (c) =>
      c.query<{ id: string; source: string; status: string; owner_id: string; issuer_id: string }>(
        'SELECT id, source, status, owner_id, issuer_id FROM certificates WHERE name = $1',
        [`acme-${orderId}`],
      ),
    );
    expect(row.rows[0]).toMatchObject({ source: 'ACME', status: 'Active', owner_id: inv.ownerId, issuer_id: inv.issuerId });
    // Born issued: one version, the row's expiry that of the leaf served.
    const stored = await withClient(server.db.url, (c) =>
      c.query<{ expires_at: Date; last_renewal_at: Date | null; versions: number; serial_number: string }>(
        `SELECT c.expires_at, c.last_renewal_at, count(v.*)::int AS versions, max(v.serial_number) AS serial_number
           FROM certificates c JOIN certificate_versions v ON v.certificate_id = c.id WHERE c.id = $1 GROUP BY c.id`,
        [row.rows[0]!.id],
      ),
    );
    const serial = (hex: string) => hex.toLowerCase().replace(/^0+(?=.)/, '');
    expect(stored.rows[0]!.versions).toBe(1);
    expect(serial(stored.rows[0]!.serial_number)).toBe(serial(leaf.serialNumber));
    expect(stored.rows[0]!.expires_at.getTime()).toBe(Date.parse(leaf.validTo));
    expect(stored.rows[0]!.last_renewal_at).not.toBeNull();
    const listed = (await (await server.request(`/api/v1/certificates/${row.rows[0]!.id}`)).json()) as { common_name: string };
    expect(listed.common_name).toBe('app.trust.test');

    // ARI, with the serial as certbot sends it.
    const info = await fetch(`${server.url}/acme/renewal-info/${ariCertId(chain.split(/(?<=-----END CERTIFICATE-----\n)/)[0]!)}`);
    expect(info.status).toBe(200);
    expect(Number(info.headers.get('retry-after'))).toBeGreaterThan(0);
    const window = ((await info.json()) as { suggestedWindow: { start: string; end: string } }).suggestedWindow;
    expect(Date.parse(window.start)).toBeLessThan(Date.parse(window.end));
    expect(Date.parse(window.end)).toBeLessThan(Date.parse(leaf.validTo));
    expect(Date.parse(window.start)).toBeGreaterThan(Date.now());

    // Another account can neither read the order nor download the certificate.
    const stranger = await newClient();
    await expect(stranger.getOrder(finalized)).rejects.toThrow(/another account/);
    await expect(stranger.getCertificate(finalized)).rejects.toThrow(/another account/);
    await expect(stranger.revokeCertificate(chain)).rejects.toThrow(/did not order this certificate/);

    // Revoke (kid): once; then alreadyRevoked; the inventory and ARI agree.
    await client.revokeCertificate(chain, { reason: 4 });
    await expect(client.revokeCertificate(chain)).rejects.toThrow(/already revoked/);
    const revoked = await withClient(server.db.url, (c) =>
      c.query<{ status: string; revocation_reason: string }>('SELECT status, revocation_reason FROM certificates WHERE id = $1', [row.rows[0]!.id]),
    );
    expect(revoked.rows[0]).toEqual({ status: 'Revoked', revocation_reason: 'superseded' });
    const after = (
      (await (await fetch(`${server.url}/acme/renewal-info/${ariCertId(chain.split(/(?<=-----END CERTIFICATE-----\n)/)[0]!)}`)).json()) as {
        suggestedWindow: { end: string };
      }
    ).suggestedWindow;
    expect(Date.parse(after.end)).toBeLessThanOrEqual(Date.now());

    const events = await auditEventsOf(server, orderId, row.rows[0]!.id);
    expect(events.map((e) => `${e.actor_type}:${e.action}`)).toEqual([
      'ACMEAccount:acme_order_created',
      'ACMEAccount:certificate_created',
      'ACMEAccount:certificate_issued',
      'ACMEAccount:acme_order_finalized',
      'ACMEAccount:certificate_revoked',
    ]);
  });

  it('commits finalizes that arrive together as one group; a second finalize of one order is refused', async () => {
    const client = await newClient({ bound: true });
    const n = 16;
    const orders = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        client.createOrder({ identifiers: [{ type: 'dns', value: `group-${i}.trust.test` }], profile: 'trusted' } as acme.Order & { profile: string }),
      ),
    );
    const csrs = await Promise.all(orders.map((_, i) => acme.crypto.createCsr({ commonName: `group-${i}.trust.test` }).then(([, csr]) => csr)));
    const settled = await Promise.allSettled([...orders.map((order, i) => client.finalizeOrder(order, csrs[i]!)), client.finalizeOrder(orders[0]!, csrs[0]!)]);
    // Each order finalized exactly once: the duplicate lost, whichever arrived first.
    expect(settled.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([
      expect.stringMatching(/no longer ready|only a ready order/),
    ]);
    const leaves = await Promise.all(orders.map(async (order) => verifyChain(await client.getCertificate(await client.getOrder(order)))));
    expect(new Set(leaves.map((l) => l.serialNumber)).size).toBe(n);
    expect(leaves.map((l) => l.subjectAltName)).toEqual(Array.from({ length: n }, (_, i) => `DNS:group-${i}.trust.test`));
    const rows = await withClient(server.db.url, (c) =>
      c.query<{ status: string; versions: number; tx: string }>(
        `SELECT c.status, (SELECT count(*)::int FROM certificate_versions v WHERE v.certificate_id = c.id) AS versions, c.xmin::text AS tx
           FROM certificates c WHERE c.name = ANY($1)`,
        [orders.map((o) => `acme-${o.url.split('/').pop()}`)],
      ),
    );
    expect(rows.rows).toHaveLength(n);
    expect(rows.rows.every((r) => r.status === 'Active' && r.versions === 1)).toBe(true);
    // Sixteen finalizes at once on two cores: some committed together (one transaction id).
    expect(new Set(rows.rows.map((r) => r.tx)).size).toBeLessThan(n);
  });

  it('refuses to finalize an order no longer ready, even one this replica created ready a moment ago', async () => {
    // The replica remembers orders it created ready (their fixed fields) for the finalize that
    // follows; their status is checked where the finalize locks them.
    const client = await newClient({ bound: true });
    const order = await client.createOrder({ identifiers: [{ type: 'dns', value: 'gone.trust.test' }], profile: 'trusted' } as acme.Order & {
      profile: string;
    });
    expect(order.status).toBe('ready');
    // Expired and failed by the ACME GC of another replica, say.
    await withClient(server.db.url, (c) => c.query(`UPDATE acme_orders SET status = 'invalid' WHERE id = $1`, [order.url.split('/').pop()]));
    const [, csr] = await acme.crypto.createCsr({ commonName: 'gone.trust.test' });
    await expect(client.finalizeOrder(order, csr)).rejects.toThrow(/no longer ready|only a ready order/);
    expect(
      (
        await withClient(server.db.url, (c) =>
          c.query<{ n: number }>(`SELECT count(*)::int AS n FROM certificates WHERE name = $1`, [`acme-${order.url.split('/').pop()}`]),
        )
      ).rows[0]!.n,
    ).toBe(0);
  });

  it('issues the lifetime asked for (notBefore/notAfter) when the profile allows it', async () => {
    const client = await newClient({ bound: true });
    const notAfter = new Date(Math.floor(Date.now() / 1000) * 1000 + 7 * 86_400_000).toISOString().replace('.000Z', 'Z');
    const order = await client.createOrder({ identifiers: [{ type: 'dns', value: 'week.trust.test' }], profile: 'trusted', notAfter } as acme.Order & {
      profile: string;
    });
    expect(order.notAfter).toBe(notAfter);
    const [, csr] = await acme.crypto.createCsr({ commonName: 'week.trust.test' });
    const leaf = verifyChain(await client.getCertificate(await client.finalizeOrder(order, csr)));
    expect(new Date(leaf.validTo).toISOString().replace('.000Z', 'Z')).toBe(notAfter);
  });

  it('refuses names outside the profile, bad identifiers (each named), unknown profiles and lifetimes', async () => {
    const client = await newClient({ bound: true });
    const kid = client.getAccountUrl();
    const key = createPrivateKey((client as unknown as { opts: { accountKey: Buffer } }).opts.accountKey);
    const newOrder = async (payload: object) =>
      post('/acme/new-order', jws(key, { kid, nonce: await freshNonce(), url: `${server.url}/acme/new-order` }, payload));

    const outside = await newOrder({ identifiers: [{ type: 'dns', value: 'www.example.test' }], profile: 'trusted' });
    expectProblem(outside, 400, 'rejectedIdentifier');
    const bad = await newOrder({
      identifiers: [
        { type: 'email', value: 'ops@example.test' },
        { type: 'dns', value: 'under_score.example.test' },
        { type: 'dns', value: '*.*.example.test' },
        { type: 'dns', value: 'ok.example.test' },
      ],
    });
    expectProblem(bad, 400, 'rejectedIdentifier');
    const subproblems = bad.body!.subproblems as Array<{ type: string; identifier: { value: string } }>;
    expect(subproblems.map((p) => [p.type.split(':').pop(), p.identifier.value])).toEqual([
      ['unsupportedIdentifier', 'ops@example.test'],
      ['rejectedIdentifier', 'under_score.example.test'],
      ['rejectedIdentifier', '*.*.example.test'],
    ]);
    expectProblem(await newOrder({ identifiers: [] }), 400, 'malformed');
    expectProblem(await newOrder({ identifiers: [{ type: 'dns', value: 'a.example.test' }], profile: 'nope' }), 400, 'invalidProfile');
    expectProblem(await newOrder({ identifiers: [{ type: 'dns', value: 'a.example.test' }], notAfter: '2030-01-01T00:00:00Z' }), 400, 'malformed');
    // Garbage where a CSR or a certificate belongs is the client's 400, never a 5xx.
    const ready = await client.createOrder({ identifiers: [{ type: 'dns', value: 'garbage.trust.test' }], profile: 'trusted' } as acme.Order & {
      profile: string;
    });
    const finalizeUrl = ready.finalize;
    const signed = async (url: string, payload: object | string) => post(new URL(url).pathname, jws(key, { kid, nonce: await freshNonce(), url }, payload));
    for (const csr of [randomBytes(300).toString('base64url'), 'not base64url!', '', 42]) {
      expectProblem(await signed(finalizeUrl, { csr }), 400, 'badCSR');
    }
    expectProblem(await signed(finalizeUrl, {}), 400, 'badCSR');
    expectProblem(await signed(finalizeUrl, '[1,2]'), 400, 'malformed');
    const revokeUrl = `${server.url}/acme/revoke-cert`;
    expectProblem(await signed(revokeUrl, { certificate: randomBytes(200).toString('base64url') }), 400, 'malformed');
    expectProblem(await signed(revokeUrl, { certificate: 'AAAA', reason: 'keyCompromise' }), 400, 'malformed');
    // Unknown fields are ignored (RFC 8555 7.4); a GET on an order URL is 405.
    const ok = await newOrder({ identifiers: [{ type: 'dns', value: 'a.example.test' }], extension: { x: 1 } });
    expect(ok.status).toBe(201);
    expect(ok.res.headers.get('location')).toMatch(new RegExp(`^${server.url}/acme/order/order-`));
    expect((await fetch(ok.res.headers.get('location')!)).status).toBe(405);
  });
});

describe('orders under a proving profile (validated against challtestsrv)', () => {
  it('issues with acme-client auto over http-01', async () => {
    const client = await newClient();
    const [, csr] = await acme.crypto.createCsr({ commonName: 'web.example.test', altNames: ['web.example.test', 'www.example.test'] });
    const chain = await client.auto({
      csr,
      termsOfServiceAgreed: true,
      challengePriority: ['http-01'],
      skipChallengeVerification: true,
      challengeCreateFn: (_authz, challenge, keyAuthorization) => chall.addHttp01(challenge.token, keyAuthorization),
      challengeRemoveFn: async () => undefined,
    });
    expect(verifyChain(chain).subjectAltName).toBe('DNS:web.example.test, DNS:www.example.test');
  });

  it('validates a wildcard with dns-01 only, and its base name with tls-alpn-01', async () => {
    const client = await newClient();
    const order = await client.createOrder({
      identifiers: [
        { type: 'dns', value: '*.wild.example.test' },
        { type: 'dns', value: 'wild.example.test' },
      ],
    });
    expect(order.status).toBe('pending');
    const [wildcard, base] = await client.getAuthorizations(order);
    expect(wildcard).toMatchObject({ identifier: { type: 'dns', value: 'wild.example.test' }, wildcard: true, status: 'pending' });
    expect(wildcard!.challenges.map((c) => c.type as string)).toEqual(['dns-01', 'dns-account-01']);
    expect(base!.challenges.map((c) => c.type as string)).toEqual(['http-01', 'dns-01', 'tls-alpn-01', 'dns-account-01']);

    const dns01 = wildcard!.challenges[0]!;
    await chall.setTxt('_acme-challenge.wild.example.test', await client.getChallengeKeyAuthorization(dns01));
    await client.completeChallenge(dns01);
    await client.waitForValidStatus(dns01);

    const alpn = base!.challenges.find((c) => (c.type as string) === 'tls-alpn-01')!;
    await chall.addTlsAlpn01('wild.example.test', await client.getChallengeKeyAuthorization(alpn));
    await client.completeChallenge(alpn);
    await client.waitForValidStatus(alpn);

    const ready = await client.getOrder(order);
    expect(ready.status).toBe('ready');
    const [, csr] = await acme.crypto.createCsr({ commonName: '*.wild.example.test', altNames: ['*.wild.example.test', 'wild.example.test'] });
    const finalized = await client.finalizeOrder(ready, csr);
    expect(verifyChain(await client.getCertificate(finalized)).subjectAltName).toBe('DNS:*.wild.example.test, DNS:wild.example.test');
  });

  it("validates dns-account-01 (draft-ietf-acme-dns-account-label-01): a TXT record under the account's own label", async () => {
    const client = await newClient();
    const order = await client.createOrder({ identifiers: [{ type: 'dns', value: 'acct.example.test' }] });
    const [authz] = await client.getAuthorizations(order);
    const challenge = authz!.challenges.find((c) => (c.type as string) === 'dns-account-01')!;
    // The same digest as dns-01 (acme-client knows that type), at the account's own name.
    const digest = await client.getChallengeKeyAuthorization({ ...challenge, type: 'dns-01' });
    await chall.setTxt(`${accountLabel(client.getAccountUrl())}._acme-challenge.acct.example.test`, digest);
    await client.completeChallenge(challenge);
    expect((await client.waitForValidStatus(challenge)).status).toBe('valid');
    expect((await client.getOrder(order)).status).toBe('ready');
  });

  it('issues for an IP address (RFC 8738) proven with http-01: IP SANs, no dns-01 offered', async () => {
    const client = await newClient();
    const order = await client.createOrder({ identifiers: [{ type: 'ip', value: '127.0.0.1' } as unknown as { type: 'dns'; value: string }] });
    const [authz] = await client.getAuthorizations(order);
    expect(authz!.identifier).toEqual({ type: 'ip', value: '127.0.0.1' });
    expect(authz!.challenges.map((c) => c.type as string)).toEqual(['http-01', 'tls-alpn-01']);
    const http01 = authz!.challenges[0]!;
    await chall.addHttp01(http01.token, await client.getChallengeKeyAuthorization(http01));
    await client.completeChallenge(http01);
    await client.waitForValidStatus(http01);
    const [, csr] = await acme.crypto.createCsr({ altNames: ['127.0.0.1'] });
    const finalized = await client.finalizeOrder(await client.getOrder(order), csr);
    expect(verifyChain(await client.getCertificate(finalized)).subjectAltName).toBe('IP Address:127.0.0.1');
  });

  it('fails a wrong answer: the challenge, the authorization and the order become invalid, and say why', async () => {
    const client = await newClient();
    const order = await client.createOrder({ identifiers: [{ type: 'dns', value: 'wrong.example.test' }] });
    const [authz] = await client.getAuthorizations(order);
    const http01 = authz!.challenges.find((c) => c.type === 'http-01')!;
    await chall.addHttp01(http01.token, 'not-the-key-authorization');
    await client.completeChallenge(http01);
    await expect(client.waitForValidStatus(http01)).rejects.toThrow(/answered "not-the-key-authorization", not the key authorization/);
    const failed = (await client.getAuthorizations(order))[0]!;
    expect(failed.status).toBe('invalid');
    expect(failed.challenges.find((c) => c.type === 'http-01')).toMatchObject({
      status: 'invalid',
      error: { type: 'urn:ietf:params:acme:error:incorrectResponse', status: 403 },
    });
    // POST-as-GET of the challenge: Link names its authorization (rel="up", certbot needs it) and the directory.
    const key = createPrivateKey((client as unknown as { opts: { accountKey: Buffer } }).opts.accountKey);
    const read = await post(new URL(http01.url).pathname, jws(key, { kid: client.getAccountUrl(), nonce: await freshNonce(), url: http01.url }, ''));
    expect(read.status).toBe(200);
    expect(read.res.headers.get('link')).toBe(`<${authz!.url}>;rel="up", <${directoryUrl}>;rel="index"`);
    const invalid = await client.getOrder(order);
    expect(invalid.status).toBe('invalid');
    const [, csr] = await acme.crypto.createCsr({ commonName: 'wrong.example.test' });
    await expect(client.finalizeOrder(invalid, csr)).rejects.toThrow(/only a ready order can be finalized/);
  });

  it('settles validations that finish together as groups: every order advanced, a wrong answer fails only its own order', async () => {
    const client = await newClient();
    const names = (tag: string, n: number) => Array.from({ length: n }, (_, i) => ({ type: 'dns' as const, value: `${tag}-${i}.settle.example.test` }));
    const good = await client.createOrder({ identifiers: names('good', 6) });
    const bad = await client.createOrder({ identifiers: names('bad', 3) });
    const answers = await Promise.all(
      [good, bad].map(async (order) =>
        (await client.getAuthorizations(order)).map((authz) => ({ order, authz, challenge: authz.challenges.find((c) => c.type === 'http-01')! })),
      ),
    );
    const all = answers.flat();
    for (const [i, { challenge }] of all.entries()) {
      // The last name of the second order answers wrong.
      await chall.addHttp01(challenge.token, i === all.length - 1 ? 'wrong' : await client.getChallengeKeyAuthorization(challenge));
    }
    await Promise.all(all.map(({ challenge }) => client.completeChallenge(challenge)));
    await untilTrue('both orders settled', async () => (await Promise.all([good, bad].map((o) => client.getOrder(o)))).every((o) => o.status !== 'pending'), {
      timeoutMs: 10_000,
    });
    expect((await client.getOrder(good)).status).toBe('ready');
    const failed = (await client.getOrder(bad)) as acme.Order & { error?: { type: string; detail: string } };
    expect(failed.status).toBe('invalid');
    expect(failed.error?.detail).toMatch(/an authorization of this order failed: .*answered "wrong"/);
    const authorizations = await client.getAuthorizations(bad);
    expect(authorizations.map((a) => a.status).sort()).toEqual(['invalid', 'valid', 'valid']);
    // One event per settled challenge, on its order.
    const orderIds = [good, bad].map((o) => o.url.split('/').pop()!);
    const events = (await auditEventsOf(server, ...orderIds)).filter((e) => e.action.startsWith('acme_challenge_'));
    expect(events.filter((e) => e.action === 'acme_challenge_validated' && e.resource_id === orderIds[0])).toHaveLength(6);
    expect(
      events
        .filter((e) => e.resource_id === orderIds[1])
        .map((e) => e.action)
        .sort(),
    ).toEqual(['acme_challenge_failed', 'acme_challenge_validated', 'acme_challenge_validated']);
  });

  it("answers a challenge for its own account only, and once: another account's answer is refused and moves nothing", async () => {
    const [owner, stranger] = [await newClient(), await newClient()];
    const order = await owner.createOrder({ identifiers: [{ type: 'dns', value: 'once.example.test' }] });
    const [authz] = await owner.getAuthorizations(order);
    const http01 = authz!.challenges.find((c) => c.type === 'http-01')!;
    await expect(stranger.completeChallenge(http01)).rejects.toThrow(/belongs to another account/);
    expect((await owner.getAuthorizations(order))[0]!.challenges.find((c) => c.type === 'http-01')!.status).toBe('pending');
    await chall.addHttp01(http01.token, await owner.getChallengeKeyAuthorization(http01));
    expect(['processing', 'valid']).toContain((await owner.completeChallenge(http01)).status);
    expect((await owner.waitForValidStatus(http01)).status).toBe('valid');
    // A repeat changes nothing (RFC 8555 7.5.1): the challenge as it is.
    expect((await owner.completeChallenge(http01)).status).toBe('valid');
    await expect(owner.completeChallenge({ ...http01, url: http01.url.replace(/[^/]+$/, 'chall-unknown') })).rejects.toThrow(/challenge chall-unknown/);
  });

  it('runs again a validation its replica abandoned mid-way (crash after "processing")', async () => {
    const client = await newClient();
    const order = await client.createOrder({ identifiers: [{ type: 'dns', value: 'crash.example.test' }] });
    const [authz] = await client.getAuthorizations(order);
    const http01 = authz!.challenges.find((c) => c.type === 'http-01')!;
    await chall.addHttp01(http01.token, await client.getChallengeKeyAuthorization(http01));
    // What a replica killed right after answering the challenge POST leaves behind.
    await withClient(server.db.url, (c) =>
      c.query(`UPDATE acme_challenges SET status = 'processing', updated_at = now() - interval '1 hour' WHERE id = $1`, [http01.url.split('/').pop()]),
    );
    // The ACME GC runs the validation again and the order becomes ready.
    await untilTrue('the abandoned validation to be run again (order ready)', async () => (await client.getOrder(order)).status === 'ready', {
      timeoutMs: 20_000,
      intervalMs: 250,
    });
  }, 30_000);

  it('revokes with the certificate key (jwk), one nonce', async () => {
    const client = await newClient();
    const certKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keyPem = certKey.privateKey.export({ type: 'pkcs8', format: 'pem' });
    const [, csr] = await acme.crypto.createCsr({ commonName: 'gone.example.test' }, keyPem);
    const chain = await client.auto({
      csr,
      termsOfServiceAgreed: true,
      challengePriority: ['http-01'],
      skipChallengeVerification: true,
      challengeCreateFn: (_authz, challenge, keyAuthorization) => chall.addHttp01(challenge.token, keyAuthorization),
      challengeRemoveFn: async () => undefined,
    });
    const der = new X509Certificate(chain).raw.toString('base64url');
    const url = `${server.url}/acme/revoke-cert`;
    const jwk = certKey.publicKey.export({ format: 'jwk' });
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expectProblem(
      await post(
        '/acme/revoke-cert',
        jws(other.privateKey, { jwk: other.publicKey.export({ format: 'jwk' }), nonce: await freshNonce(), url }, { certificate: der }),
      ),
      403,
      'unauthorized',
    );
    expectProblem(
      await post('/acme/revoke-cert', jws(certKey.privateKey, { jwk, nonce: await freshNonce(), url }, { certificate: der, reason: 7 })),
      400,
      'badRevocationReason',
    );
    const revoked = await post('/acme/revoke-cert', jws(certKey.privateKey, { jwk, nonce: await freshNonce(), url }, { certificate: der, reason: 1 }));
    expect(revoked.status).toBe(200);
    expect(revoked.nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expectProblem(
      await post('/acme/revoke-cert', jws(certKey.privateKey, { jwk, nonce: await freshNonce(), url }, { certificate: der })),
      400,
      'alreadyRevoked',
    );
  });

  it('answers renewal-info for unknown and malformed ids with 404 and 400', async () => {
    expect((await fetch(`${server.url}/acme/renewal-info/aaaa.bbbb`)).status).toBe(404);
    const malformed = await fetch(`${server.url}/acme/renewal-info/not-an-id`);
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get('content-type')).toBe('application/problem+json');
  });
});
