/**
 * Side by side with Pebble (Let's Encrypt's test CA, Debian 2.4): one acme-client script runs
 * the same flow against both servers and records what a client observes at each step. The two
 * transcripts must be equal except for the differences listed here, each one deliberate and
 * documented in docs/acme.md ("Pebble side by side"). Both validate http-01 against the same
 * pebble-challtestsrv responder on loopback.
 */
import { X509Certificate } from 'node:crypto';
import https from 'node:https';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as acme from 'acme-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChallTestSrv, type ChallTestSrv } from '../support/challtestsrv.ts';
import { seedInventory, withClient } from '../support/fixtures.ts';
import { startPebble, type TestPebble } from '../support/pebble.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let chall: ChallTestSrv;
let pebble: TestPebble;
let server: TestServer;
let dir: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-parity-'));
  chall = await startChallTestSrv({ responders: true });
  pebble = await startPebble(path.join(dir, 'pebble'), chall.http01Port);
  server = await startTestServer({
    CERTFLEET_ACME_VALIDATION_ALLOW_LOOPBACK: 'true',
    CERTFLEET_ACME_HTTP01_PORT: String(chall.http01Port),
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
  // acme-client speaks to Pebble over HTTPS with Pebble's test CA.
  acme.axios.defaults.httpsAgent = new https.Agent({ ca: pebble.tlsCaPem });
}, 60_000);
afterAll(async () => {
  await server?.close();
  await pebble?.stop();
  await chall?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** acme-client's own request layer (it throws only a problem's detail; the type is what is compared). */
interface RawApi {
  apiRequest(url: string, payload: unknown, valid: number[]): Promise<{ status: number; data: { type?: string } }>;
  apiResourceRequest(
    resource: string,
    payload: unknown,
    valid: number[],
    opts?: { includeJwsKid: boolean },
  ): Promise<{ status: number; data: { type?: string } }>;
}
const api = (client: acme.Client) => (client as unknown as { api: RawApi }).api;
const outcome = (resp: { status: number; data: { type?: string } }) =>
  resp.status < 300 ? 'accepted' : (resp.data.type ?? '').replace('urn:ietf:params:acme:error:', '');
/** PEM to base64url DER, as a JWS payload carries a CSR or a certificate. */
const derB64u = (pem: string | Buffer) => Buffer.from(String(pem).split('-----')[2]!.replace(/\s+/g, ''), 'base64').toString('base64url');

/** What a client observes, step by step; `name` differs per server only so the runs never collide. */
async function transcript(directoryUrl: string, name: string): Promise<Record<string, unknown>> {
  const t: Record<string, unknown> = {};
  const directory = (await acme.axios.get(directoryUrl)).data as Record<string, unknown>;
  t.directoryEntries = Object.keys(directory)
    .filter((k) => k !== 'meta')
    .sort();

  const client = new acme.Client({
    directoryUrl,
    accountKey: await acme.crypto.createPrivateEcdsaKey(),
    backoffAttempts: 30,
    backoffMin: 100,
    backoffMax: 500,
  });
  t.unknownAccount = outcome(await api(client).apiResourceRequest('newAccount', { onlyReturnExisting: true }, [], { includeJwsKid: false }));
  t.account = (await client.createAccount({ termsOfServiceAgreed: true })).status;

  const names = [name, `www.${name}`];
  const order = await client.createOrder({ identifiers: names.map((value) => ({ type: 'dns' as const, value })) });
  t.order = { status: order.status, authorizations: order.authorizations.length, identifiers: order.identifiers };
  const authorizations = await client.getAuthorizations(order);
  t.challengeTypes = authorizations.map((a) => a.challenges.map((c) => c.type as string).sort());
  t.authorizationStatus = authorizations.map((a) => a.status);

  for (const authz of authorizations) {
    const http01 = authz.challenges.find((c) => c.type === 'http-01')!;
    await chall.addHttp01(http01.token, await client.getChallengeKeyAuthorization(http01));
    t.challengeAnswer = (await client.completeChallenge(http01)).status;
    t.challengeSettled = (await client.waitForValidStatus(http01)).status;
  }
  t.orderAfterChallenges = (await client.waitForValidStatus(order).catch(() => client.getOrder(order))).status;

  const [, wrongCsr] = await acme.crypto.createCsr({ commonName: name, altNames: [...names, `other.${name}`] });
  t.mismatchedCsr = outcome(await api(client).apiRequest(order.finalize, { csr: derB64u(wrongCsr) }, []));

  const [, csr] = await acme.crypto.createCsr({ commonName: name, altNames: names });
  const finalized = await client.finalizeOrder(await client.getOrder(order), csr);
  t.finalizeAnswers = finalized.status;
  const valid = await client.waitForValidStatus(finalized);
  t.orderAfterFinalize = valid.status;
  t.refinalize = outcome(await api(client).apiRequest(valid.finalize, { csr: derB64u(csr) }, []));

  const chain = await client.getCertificate(valid);
  t.chainBlocks = chain.match(/-----BEGIN CERTIFICATE-----/g)?.length;
  const leaf = new X509Certificate(chain);
  t.leafNames = leaf.subjectAltName;

  t.revoke = outcome(await api(client).apiResourceRequest('revokeCert', { certificate: derB64u(chain), reason: 4 }, []));
  t.revokeAgain = outcome(await api(client).apiResourceRequest('revokeCert', { certificate: derB64u(chain), reason: 4 }, []));
  // A reason a subscriber may not give (7 is unused in RFC 5280), on a fresh certificate.
  const [, csr2] = await acme.crypto.createCsr({ commonName: `r.${name}` });
  const cert2 = await client.auto({
    csr: csr2,
    termsOfServiceAgreed: true,
    challengePriority: ['http-01'],
    skipChallengeVerification: true,
    challengeCreateFn: (_authz, challenge, keyAuthorization) => chall.addHttp01(challenge.token, keyAuthorization),
    challengeRemoveFn: async () => undefined,
  });
  t.badReason = outcome(await api(client).apiResourceRequest('revokeCert', { certificate: derB64u(cert2), reason: 7 }, []));
  return t;
}

/**
 * Where certfleet answers differently on purpose (docs/acme.md, "Pebble side by side"), as
 * [certfleet, pebble]:
 * - challengeAnswer: the challenge POST answers `processing` (the validation is queued, as
 *   RFC 8555 7.5.1 describes); Pebble answers `pending` and moves it later.
 * - finalizeAnswers: certfleet issues while the request waits, so it answers `valid` at once;
 *   Pebble answers `processing` and the client polls (both RFC 8555 7.4 behaviours).
 * - mismatchedCsr: a CSR naming other names than the order is `badCSR`, as RFC 8555 7.4 says;
 *   Pebble answers `unauthorized`.
 * - directoryEntries: certfleet also lists renewalInfo (RFC 9773), which Pebble 2.4 lacks.
 * - challengeTypes: certfleet also offers dns-account-01 (draft-ietf-acme-dns-account-label),
 *   which Pebble 2.4 lacks; clients skip types they do not know (RFC 8555 7.5).
 */
const deliberate: Record<string, [unknown, unknown]> = {
  challengeAnswer: ['processing', 'pending'],
  finalizeAnswers: ['valid', 'processing'],
  mismatchedCsr: ['badCSR', 'unauthorized'],
};

describe('certfleet and Pebble, side by side', () => {
  it('look the same to acme-client, but for the listed differences', async () => {
    const ours = await transcript(`${server.url}/acme/directory`, 'parity-cf.example.test');
    const theirs = await transcript(pebble.directoryUrl, 'parity-pebble.example.test');
    const normalise = (t: Record<string, unknown>, who: 0 | 1) => {
      const out: Record<string, unknown> = {
        ...t,
        order: { ...(t.order as object), identifiers: 'per run' },
        leafNames: typeof t.leafNames === 'string' ? t.leafNames.replace(/parity-(cf|pebble)/g, 'parity') : t.leafNames,
        directoryEntries: (t.directoryEntries as string[]).filter((k) => k !== 'renewalInfo'),
        challengeTypes: (t.challengeTypes as string[][]).map((types) => types.filter((type) => type !== 'dns-account-01')),
      };
      for (const [key, expected] of Object.entries(deliberate)) if (t[key] === expected[who]) out[key] = 'as documented';
      return out;
    };
    expect(normalise(ours, 0)).toEqual(normalise(theirs, 1));
    // And what both must show at all.
    expect(ours).toMatchObject({
      unknownAccount: 'accountDoesNotExist',
      account: 'valid',
      mismatchedCsr: 'badCSR',
      revoke: 'accepted',
      revokeAgain: 'alreadyRevoked',
      badReason: 'badRevocationReason',
    });
    expect((ours.directoryEntries as string[]).includes('renewalInfo')).toBe(true);
  }, 120_000);
});
