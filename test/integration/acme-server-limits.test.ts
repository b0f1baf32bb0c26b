/**
 * ACME renewal information that operators steer, renewals that replace, and the order limits,
 * over real HTTP with acme-client (validations against pebble-challtestsrv on loopback). The
 * limits are set low here so a handful of requests reaches each of them.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import * as acme from 'acme-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acmeHttp, expectProblem, jws } from '../support/acme-http.ts';
import { ariCertId } from '../support/ari.ts';
import { startChallTestSrv, type ChallTestSrv } from '../support/challtestsrv.ts';
import { seedInventory, withClient } from '../support/fixtures.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;
let chall: ChallTestSrv;
let directoryUrl: string;
const { freshNonce, post } = acmeHttp(() => server.url);

beforeAll(async () => {
  chall = await startChallTestSrv({ responders: true });
  server = await startTestServer({
    CERTFLEET_ACME_VALIDATION_ALLOW_LOOPBACK: 'true',
    CERTFLEET_ACME_HTTP01_PORT: String(chall.http01Port),
    CERTFLEET_ACME_DNS_RESOLVER: `127.0.0.1:${chall.dnsPort}`,
    CERTFLEET_ACME_DEFAULT_PROFILE: 'proven',
    CERTFLEET_ACME_RATE_LIMIT_NEW_ORDERS_PER_ACCOUNT_PER_HOUR: '3',
    CERTFLEET_ACME_RATE_LIMIT_FAILED_VALIDATIONS_PER_IDENTIFIER_PER_HOUR: '1',
    CERTFLEET_ACME_MAX_PENDING_ORDERS_PER_ACCOUNT: '2',
  });
  directoryUrl = `${server.url}/acme/directory`;
  const inv = await seedInventory(server.db.url);
  const acmeFields = { acme_issuer_id: inv.issuerId, acme_owner_id: inv.ownerId, acme_team_id: inv.teamId, acme_renewal_policy_id: inv.policyId };
  for (const profile of [
    { id: 'trusted', name: 'trusted', acme_auth_mode: 'trust_authenticated' },
    { id: 'proven', name: 'proven' },
  ]) {
    const res = await server.request('/api/v1/profiles', {
      method: 'POST',
      body: JSON.stringify({ ...profile, ...acmeFields }),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(201);
  }
}, 60_000);
afterAll(async () => {
  await server?.close();
  await chall?.stop();
});

async function boundClient(): Promise<acme.Client> {
  const res = await server.request('/api/v1/acme/eab-keys', {
    method: 'POST',
    body: JSON.stringify({ name: 'limits' }),
    headers: { 'content-type': 'application/json' },
  });
  const key = (await res.json()) as { id: string; hmac_key: string };
  const client = new acme.Client({
    directoryUrl,
    accountKey: await acme.crypto.createPrivateEcdsaKey('P-384'),
    externalAccountBinding: { kid: key.id, hmacKey: key.hmac_key },
  });
  await client.createAccount({ termsOfServiceAgreed: true });
  return client;
}

type OrderRequest = acme.Order & { profile?: string; replaces?: string };

/** Orders `name` under the trusting profile and returns the certificate. */
async function issue(client: acme.Client, name: string, replaces?: string): Promise<string> {
  const order = await client.createOrder({
    identifiers: [{ type: 'dns', value: name }],
    profile: 'trusted',
    ...(replaces ? { replaces } : {}),
  } as OrderRequest);
  const [, csr] = await acme.crypto.createCsr({ commonName: name });
  return client.getCertificate(await client.finalizeOrder(order, csr));
}

/** The RFC 9773 id of a chain's leaf. */
const certId = (chain: string) => ariCertId(chain.split(/(?<=-----END CERTIFICATE-----\n)/)[0]!);

async function window(chain: string): Promise<{ start: number; end: number }> {
  const res = await fetch(`${server.url}/acme/renewal-info/${certId(chain)}`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { suggestedWindow: { start: string; end: string } };
  return { start: Date.parse(body.suggestedWindow.start), end: Date.parse(body.suggestedWindow.end) };
}

describe('renewal information operators steer', () => {
  it('moves into the past when the certificate is renewed over REST; the replacing order completes the request', async () => {
    const client = await boundClient();
    const first = await issue(client, 'steer.example.test');
    expect((await window(first)).start).toBeGreaterThan(Date.now());

    const serial = new X509Certificate(first).serialNumber.toLowerCase().replace(/^0+/, '');
    const { certificate_id: certificateId } = (
      await withClient(server.db.url, (c) =>
        c.query<{ certificate_id: string }>('SELECT certificate_id FROM certificate_versions WHERE serial_number = $1', [serial]),
      )
    ).rows[0]!;
    const renew = await server.request(`/api/v1/certificates/${certificateId}/renew`, { method: 'POST' });
    expect(renew.status, await renew.clone().text()).toBeLessThan(300);
    const job = ((await renew.json()) as { job_id: string }).job_id;
    expect((await window(first)).end).toBeLessThanOrEqual(Date.now());

    const second = await issue(client, 'steer.example.test', certId(first));
    expect(new X509Certificate(second).serialNumber).not.toBe(new X509Certificate(first).serialNumber);
    const jobRow = await withClient(server.db.url, (c) => c.query<{ status: string }>('SELECT status FROM jobs WHERE id = $1', [job]));
    expect(jobRow.rows[0]!.status).toBe('Completed');
    expect((await window(first)).start).toBeGreaterThan(Date.now());

    // One replacement per certificate.
    await expect(
      client.createOrder({ identifiers: [{ type: 'dns', value: 'steer.example.test' }], profile: 'trusted', replaces: certId(first) } as OrderRequest),
    ).rejects.toThrow(/already being replaced/);
    // Orders racing to replace one certificate (new orders that arrive together commit as a
    // group): exactly one is accepted, the others refused, and the group's other orders go on.
    const bystander = await boundClient();
    const racing = await Promise.allSettled([
      ...Array.from({ length: 3 }, () =>
        client.createOrder({ identifiers: [{ type: 'dns', value: 'steer.example.test' }], profile: 'trusted', replaces: certId(second) } as OrderRequest),
      ),
      ...Array.from({ length: 2 }, (_, i) =>
        bystander.createOrder({ identifiers: [{ type: 'dns', value: `bystander-${i}.example.test` }], profile: 'trusted' } as OrderRequest),
      ),
    ]);
    expect(racing.slice(0, 3).filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of racing.slice(0, 3)) if (r.status === 'rejected') expect(String(r.reason)).toMatch(/already being replaced/);
    expect(racing.slice(3).every((r) => r.status === 'fulfilled')).toBe(true);
    // And only by the account it was issued to.
    const other = await boundClient();
    await expect(
      other.createOrder({ identifiers: [{ type: 'dns', value: 'steer.example.test' }], profile: 'trusted', replaces: certId(second) } as OrderRequest),
    ).rejects.toThrow(/this account was not issued/);
  });
});

describe('order limits', () => {
  it('refuses the fourth new order in an hour with 429 and Retry-After; renewals are exempt', async () => {
    const client = await boundClient();
    const chain = await issue(client, 'one.example.test');
    await issue(client, 'two.example.test');
    await issue(client, 'three.example.test');
    const key = createPrivateKey((client as unknown as { opts: { accountKey: Buffer } }).opts.accountKey);
    const url = `${server.url}/acme/new-order`;
    const refused = await post(
      '/acme/new-order',
      jws(
        key,
        { alg: 'ES384', kid: client.getAccountUrl(), nonce: await freshNonce(), url },
        { identifiers: [{ type: 'dns', value: 'four.example.test' }], profile: 'trusted' },
      ),
    );
    expectProblem(refused, 429, 'rateLimited');
    expect(Number(refused.res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.body!.detail).toMatch(/too many new orders of account .*: the limit is 3 per hour/);
    // A renewal naming the certificate it replaces still goes through.
    expect(new X509Certificate(await issue(client, 'one.example.test', certId(chain))).subjectAltName).toBe('DNS:one.example.test');
  });

  it('limits orders awaiting validation, and orders for a name that failed validation', async () => {
    // acme-client waits out a 429's Retry-After: the refusals are sent by hand.
    const client = new acme.Client({ directoryUrl, accountKey: await acme.crypto.createPrivateEcdsaKey() });
    await client.createAccount({ termsOfServiceAgreed: true });
    const key = createPrivateKey((client as unknown as { opts: { accountKey: Buffer } }).opts.accountKey);
    const newOrder = async (name: string) =>
      post(
        '/acme/new-order',
        jws(
          key,
          { kid: client.getAccountUrl(), nonce: await freshNonce(), url: `${server.url}/acme/new-order` },
          { identifiers: [{ type: 'dns', value: name }] },
        ),
      );

    const first = await client.createOrder({ identifiers: [{ type: 'dns', value: 'p1.example.test' }] });
    await client.createOrder({ identifiers: [{ type: 'dns', value: 'p2.example.test' }] });
    const pending = await newOrder('p3.example.test');
    expectProblem(pending, 429, 'rateLimited');
    expect(pending.body!.detail).toMatch(/has 2 orders awaiting validation/);

    const [authz] = await client.getAuthorizations(first);
    const http01 = authz!.challenges.find((c) => c.type === 'http-01')!;
    await chall.addHttp01(http01.token, 'wrong');
    await client.completeChallenge(http01);
    await expect(client.waitForValidStatus(http01)).rejects.toThrow(/not the key authorization/);
    // p1 failed once (the limit): its orders wait; other names are fine (one order fewer pending).
    const failed = await newOrder('p1.example.test');
    expectProblem(failed, 429, 'rateLimited');
    expect(failed.body!.detail).toMatch(/too many failed validations of p1.example.test by this account/);
    expect(Number(failed.res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await newOrder('p3.example.test')).status).toBe(201);
  });
});
