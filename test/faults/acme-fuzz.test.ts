/**
 * Property-based fuzzing of the ACME server's signed requests over real HTTP. The API fuzzer
 * (api-fuzz.test.ts) reaches the ACME routes too, but its bodies never carry a valid signature,
 * so they stop at the JWS check. Here every request is signed by a real account's key with a
 * fresh nonce and the exact URL, so hostile content reaches what lies behind the signature:
 * - new-order: identifiers of every type and shape (wildcards, IPs, IDNs, trailing dots, NUL,
 *   70 kB names), dates and profiles that are no dates or profiles, arbitrary and deep JSON;
 * - finalize of a ready order: the right CSR mutated (bytes flipped, truncated, extended), random
 *   bytes, CSRs for other names, non-strings;
 * - revoke-cert: a real certificate mutated, random DER, odd reasons;
 * - account update, key-change (inner JWS never valid), POST-as-GET on hostile resource ids;
 * - the protected header itself: other algorithms, both kid and jwk, odd nonces, urls and kids.
 * Property: never a 5xx; a 4xx is a problem document (RFC 7807, an ACME error type) with a fresh
 * Replay-Nonce; no error line in the log; /health answers after.
 *
 * CI runs a fixed seed and a bounded count; `npm run faults` runs long with fresh seeds.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import * as acme from 'acme-client';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { b64, jws } from '../support/acme-http.ts';
import { seedInventory, type Inventory } from '../support/fixtures.ts';
import { deepJson, hostileText, hostileUrlText } from '../support/fuzz-values.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const runs = Number(process.env.CERTFLEET_FUZZ_RUNS ?? 600);
const seed = Number(process.env.CERTFLEET_FUZZ_SEED ?? 20261201);

let server: TestServer;
let inv: Inventory;
let directory: Record<string, string>;
let accountUrl: string;
let accountKey: KeyObject;
/** A CSR (DER) naming exactly `fuzz.trust.test`, what proper orders here ask for. */
let goodCsr: Buffer;
/** A well-formed CSR for names a ready order here does not hold. */
let otherCsr: Buffer;
/** A certificate this server issued (DER), for revoke-cert mutations. */
let issuedDer: Buffer;

beforeAll(async () => {
  server = await startTestServer({
    // No limit gets in the way of reaching the handlers (the limits have their own tests).
    CERTFLEET_ACME_RATE_LIMIT_NEW_ORDERS_PER_ACCOUNT_PER_HOUR: '0',
    CERTFLEET_ACME_RATE_LIMIT_KEY_CHANGES_PER_ACCOUNT_PER_HOUR: '0',
    CERTFLEET_ACME_MAX_PENDING_ORDERS_PER_ACCOUNT: '0',
  });
  inv = await seedInventory(server.db.url);
  const res = await server.request('/api/v1/profiles', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      id: 'trusted',
      name: 'trusted',
      description: 'Any name under trust.test, no challenge',
      san_patterns: ['*.trust.test'],
      acme_auth_mode: 'trust_authenticated',
      acme_issuer_id: inv.issuerId,
      acme_owner_id: inv.ownerId,
      acme_team_id: inv.teamId,
      acme_renewal_policy_id: inv.policyId,
    }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  const eab = (await (
    await server.request('/api/v1/acme/eab-keys', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'fuzz' }) })
  ).json()) as { id: string; hmac_key: string };
  const keyPem = await acme.crypto.createPrivateEcdsaKey();
  const client = new acme.Client({
    directoryUrl: `${server.url}/acme/directory`,
    accountKey: keyPem,
    externalAccountBinding: { kid: eab.id, hmacKey: eab.hmac_key },
  });
  await client.createAccount({ termsOfServiceAgreed: true });
  accountUrl = client.getAccountUrl();
  accountKey = createPrivateKey(keyPem);
  directory = (await (await fetch(`${server.url}/acme/directory`)).json()) as Record<string, string>;
  const [, csrPem] = await acme.crypto.createCsr({ commonName: 'fuzz.trust.test', altNames: ['fuzz.trust.test'] });
  goodCsr = derOf(csrPem);
  const [, otherPem] = await acme.crypto.createCsr({ commonName: 'other.trust.test', altNames: ['other.trust.test', 'fuzz.trust.test'] });
  otherCsr = derOf(otherPem);
  const issued = await client.auto({ csr: csrPem, challengeCreateFn: async () => undefined, challengeRemoveFn: async () => undefined });
  issuedDer = new X509Certificate(issued).raw;
}, 60_000);
afterAll(async () => {
  await server?.close();
});

const derOf = (pem: Buffer | string) => Buffer.from(pem.toString().replace(/-----[^-]+-----|\s/g, ''), 'base64');

async function nonce(): Promise<string> {
  return (await fetch(directory.newNonce!, { method: 'HEAD' })).headers.get('replay-nonce')!;
}

async function post(url: string, body: string, contentType = 'application/jose+json') {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body });
  const text = await res.text();
  return { res, text };
}

/** Signed by the account (kid), fresh nonce, the exact URL. */
async function signed(url: string, payload: string | object, header: Record<string, unknown> = {}) {
  return post(url, jws(accountKey, { kid: accountUrl, nonce: await nonce(), url, ...header }, payload));
}

/** A ready order for fuzz.trust.test (the profile trusts the account): its finalize URL. */
async function readyOrder(): Promise<string> {
  const { res, text } = await signed(directory.newOrder!, { identifiers: [{ type: 'dns', value: 'fuzz.trust.test' }] });
  expect(res.status, text).toBe(201);
  return (JSON.parse(text) as { finalize: string }).finalize;
}

/** DER (made in beforeAll) mutated where parsers are fragile: flipped bytes, truncation, garbage appended, a length byte. */
function mutate(der: () => Buffer) {
  return fc
    .record({
      kind: fc.constantFrom('flip', 'truncate', 'append', 'length'),
      at: fc.nat(),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
    })
    .map(({ kind, at, bytes }) => {
      const copy = Buffer.from(der());
      const i = at % copy.length;
      if (kind === 'flip') bytes.forEach((b, k) => (copy[(i + k) % copy.length]! ^= b || 1));
      if (kind === 'truncate') return copy.subarray(0, i);
      if (kind === 'append') return Buffer.concat([copy, Buffer.from(bytes)]);
      if (kind === 'length') copy[1] = bytes[0]!;
      return copy;
    });
}

const hostileScalar = fc.oneof(hostileText, fc.integer(), fc.double(), fc.boolean(), fc.constant(null));
const anyJson = fc.oneof({ arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 3 }, { arbitrary: deepJson, weight: 1 }, { arbitrary: hostileScalar, weight: 1 });
const names = fc.oneof(
  fc.domain().map((d) => `${d.split('.')[0]}.trust.test`),
  fc.constantFrom(
    '*.trust.test',
    '*.*.trust.test',
    'a.*.trust.test',
    'FUZZ.TRUST.TEST',
    'fuzz.trust.test.',
    'a..trust.test',
    '-a.trust.test',
    'xn--.trust.test',
    'xn--bcher-kva.trust.test',
    'bücher.trust.test',
    '127.0.0.1',
    '::1',
    '[::1]',
    '0x7f.1',
    '1.2.3.4.trust.test',
    'localhost',
    `${'a'.repeat(64)}.trust.test`,
    `${'a.'.repeat(130)}trust.test`,
  ),
  hostileText,
);
const identifier = fc.oneof(
  fc.record({ type: fc.constantFrom('dns', 'ip', 'email', 'DNS', ''), value: names }),
  fc.record({ type: hostileScalar, value: fc.oneof(names, hostileScalar) }, { requiredKeys: [] }),
  hostileScalar,
);
const date = fc.oneof(
  fc.date({ min: new Date('1900-01-01'), max: new Date('2300-01-01'), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom('2026-13-45T99:99:99Z', '0000-00-00T00:00:00Z', 'now', '1e308', '2026-12-01'),
  hostileScalar,
);
const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/);
const newOrderPayload = fc.oneof(
  // Proper orders, so the handler's success path runs under the same load.
  fc.record(
    {
      identifiers: fc.uniqueArray(
        label.map((l) => ({ type: 'dns', value: `${l}.trust.test` })),
        { minLength: 1, maxLength: 3, selector: (i) => i.value },
      ),
      profile: fc.constant('trusted'),
    },
    { requiredKeys: ['identifiers'] },
  ),
  fc.record(
    {
      identifiers: fc.oneof({ arbitrary: fc.array(identifier, { maxLength: 6 }), weight: 4 }, { arbitrary: hostileScalar, weight: 1 }),
      notBefore: date,
      notAfter: date,
      profile: fc.oneof(fc.constant('trusted'), hostileScalar),
      replaces: fc.oneof(hostileScalar, fc.constant('aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE')),
    },
    { requiredKeys: ['identifiers'] },
  ),
  anyJson,
);
type Case = { name: string; send: () => Promise<{ res: Response; text: string }> };

const cases: fc.Arbitrary<Case> = fc.oneof(
  newOrderPayload.map((payload) => ({ name: 'new-order', send: () => signed(directory.newOrder!, payload as object) })),
  fc
    .oneof(
      { arbitrary: fc.constant('good'), weight: 1 },
      { arbitrary: fc.constant('mutated'), weight: 6 },
      { arbitrary: fc.constant('random'), weight: 1 },
      { arbitrary: fc.constant('other-names'), weight: 1 },
      { arbitrary: fc.constant('not-a-string'), weight: 1 },
    )
    .chain((kind) =>
      fc.tuple(
        fc.constant(kind),
        mutate(() => goodCsr),
        fc.uint8Array({ maxLength: 600 }),
        hostileScalar,
        fc.string({ unit: 'binary', maxLength: 40 }),
      ),
    )
    .map(([kind, mutated, random, scalar, text]) => ({
      name: `finalize (${kind})`,
      send: async () => {
        const url = await readyOrder();
        const csr =
          kind === 'good'
            ? b64(goodCsr)
            : kind === 'mutated'
              ? b64(mutated)
              : kind === 'random'
                ? b64(Buffer.from(random))
                : kind === 'other-names'
                  ? b64(otherCsr)
                  : typeof scalar === 'string'
                    ? `${scalar}${text}`
                    : scalar;
        return signed(url, { csr });
      },
    })),
  fc
    .tuple(
      fc.oneof(
        mutate(() => issuedDer),
        fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)),
      ),
      fc.oneof(fc.integer({ min: -3, max: 12 }), hostileScalar),
      fc.boolean(),
    )
    .map(([der, reason, withReason]) => ({
      name: 'revoke-cert',
      send: () => signed(directory.revokeCert!, { certificate: b64(der), ...(withReason ? { reason } : {}) }),
    })),
  fc
    .record(
      {
        contact: fc.oneof(
          fc.array(
            fc.oneof(
              fc.constant('mailto:fuzz@example.test'),
              hostileText.map((t) => `mailto:${t}`),
              hostileText,
            ),
            { maxLength: 4 },
          ),
          hostileScalar,
        ),
        status: fc.oneof(
          fc.constant('valid'),
          hostileScalar.filter((s) => s !== 'deactivated'),
        ),
        termsOfServiceAgreed: hostileScalar,
        externalAccountBinding: anyJson,
      },
      { requiredKeys: [] },
    )
    .map((payload) => ({ name: 'account update', send: () => signed(accountUrl, payload) })),
  fc.tuple(anyJson, hostileScalar, fc.boolean()).map(([inner, account, innerSigned]) => ({
    name: 'key-change',
    send: () => {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const url = directory.keyChange!;
      // Never a valid rollover: the inner payload names no real account, or is not a JWS at all.
      const payload = innerSigned
        ? JSON.parse(jws(privateKey, { jwk: createPublicKey(privateKey).export({ format: 'jwk' }), url }, { account, oldKey: inner }))
        : inner;
      return signed(url, payload as object);
    },
  })),
  fc
    .tuple(
      fc.constantFrom('order', 'authz', 'chall', 'cert', 'acct'),
      hostileUrlText,
      fc.oneof(
        fc.constant(''),
        anyJson.map((v) => JSON.stringify(v) ?? ''),
      ),
    )
    .map(([kind, id, payload]) => ({
      name: `post-as-get ${kind}`,
      send: () => signed(`${server.url}/acme/${kind}/${encodeURIComponent(id.isWellFormed() ? id : 'x')}`, payload),
    })),
  fc
    .record(
      {
        alg: fc.oneof(fc.constantFrom('ES256', 'ES384', 'none', 'HS256', 'RS256', 'EdDSA', 'es256'), hostileScalar),
        nonce: fc.oneof(fc.constant('fresh'), fc.constant('spent'), hostileScalar),
        url: fc.oneof(fc.constant('right'), hostileScalar),
        kid: fc.oneof(fc.constant('right'), hostileScalar),
        jwk: fc.oneof(fc.constant('none'), fc.constant('own'), anyJson),
        crit: fc.oneof(fc.constant(undefined), fc.array(hostileText, { maxLength: 3 })),
        b64: fc.oneof(fc.constant(undefined), fc.boolean()),
      },
      { requiredKeys: ['alg', 'nonce', 'url', 'kid', 'jwk'] },
    )
    .map((h) => ({
      name: 'protected header',
      send: async () => {
        const url = directory.newOrder!;
        const fresh = await nonce();
        if (h.nonce === 'spent') await post(url, jws(accountKey, { kid: accountUrl, nonce: fresh, url }, { identifiers: [] }));
        const header: Record<string, unknown> = {
          alg: h.alg,
          nonce: h.nonce === 'fresh' || h.nonce === 'spent' ? fresh : h.nonce,
          url: h.url === 'right' ? url : h.url,
          kid: h.kid === 'right' ? accountUrl : h.kid,
        };
        if (h.jwk !== 'none') header.jwk = h.jwk === 'own' ? createPublicKey(accountKey).export({ format: 'jwk' }) : h.jwk;
        if (h.crit !== undefined) header.crit = h.crit;
        if (h.b64 !== undefined) header.b64 = h.b64;
        return post(url, jws(accountKey, header, { identifiers: [{ type: 'dns', value: 'fuzz.trust.test' }] }));
      },
    })),
  fc
    .tuple(
      fc.oneof(
        hostileText,
        anyJson.map((v) => JSON.stringify(v) ?? ''),
      ),
      fc.constantFrom('application/jose+json', 'application/json', 'text/plain', ''),
    )
    .map(([body, contentType]) => ({ name: 'not a JWS', send: () => post(directory.newOrder!, body, contentType) })),
);

describe('the ACME server under signed hostile requests', () => {
  it(`answers ${runs} generated requests without a 5xx, every error a problem document with a nonce (seed ${seed})`, async () => {
    const byCase = new Map<string, Map<number, number>>();
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const { res, text } = await c.send();
        const statuses = byCase.get(c.name) ?? new Map<number, number>();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        byCase.set(c.name, statuses);
        expect(res.status, `${c.name}: ${text.slice(0, 300)}`).toBeLessThan(500);
        expect(res.headers.get('replay-nonce') ?? '', `${c.name} ${res.url} ${res.status}: ${text.slice(0, 300)}`).toMatch(/^[A-Za-z0-9_-]{43}$/);
        if (res.status >= 400) {
          expect(res.headers.get('content-type'), c.name).toBe('application/problem+json');
          expect((JSON.parse(text) as { type: string }).type, c.name).toMatch(/^urn:ietf:params:acme:error:[A-Za-z]+$/);
        }
      }),
      { numRuns: runs, seed, endOnFailure: true },
    );
    const summary = [...byCase].map(([name, statuses]) => `${name} ${JSON.stringify(Object.fromEntries(statuses))}`);
    console.log(`acme fuzz: ${runs} cases\n  ${summary.join('\n  ')}`);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    expect(server.logLines.filter((l) => l.includes('"level":50'))).toEqual([]);
    // The generator gets past the signature into the handlers: some finalizes and orders succeed.
    const succeeded = [...byCase.values()].reduce((n, s) => n + [...s].filter(([status]) => status < 300).reduce((m, [, k]) => m + k, 0), 0);
    expect(succeeded).toBeGreaterThan(runs * 0.05);
  }, 300_000);
});
