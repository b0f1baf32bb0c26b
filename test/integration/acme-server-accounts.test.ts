/**
 * The ACME server's foundation over real HTTP: the directory, nonces and accounts, driven by the
 * npm acme-client (a real client) and by hand-made JWS for what a client would never send.
 * Every response to a POST or HEAD, errors included, carries a Replay-Nonce (GETs other than
 * new-nonce do not, as Let's Encrypt's); errors speak problem+json.
 */
import http from 'node:http';
import { constants, createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import * as acme from 'acme-client';
import { beforeAll, describe, expect, it } from 'vitest';
import { auditEventsOf } from '../support/audit-events.ts';
import { acmeHttp, b64, expectProblem, jws } from '../support/acme-http.ts';
import { withClient } from '../support/fixtures.ts';
import { createAcmeServerRepository } from '../../src/db/acme-server.ts';
import type { Pool } from '../../src/db/pool.ts';
import { useTestWorld } from '../support/world.ts';

let directoryUrl: string;

const world = useTestWorld({ inventory: false });

beforeAll(async () => {
  directoryUrl = `${world.server.url}/acme/directory`;
});

const { freshNonce, post } = acmeHttp(() => world.server.url);

describe('ACME directory and nonces', () => {
  it('serves the directory with absolute URLs built from the request; a nonce on HEAD, none on GET', async () => {
    const res = await fetch(directoryUrl);
    expect(res.status).toBe(200);
    // Boulder and Pebble answer a GET without a nonce (clients take theirs from new-nonce); a
    // HEAD of the directory, which older clients sent for a nonce, still gets one.
    expect(res.headers.get('replay-nonce')).toBeNull();
    const head = await fetch(directoryUrl, { method: 'HEAD' });
    expect([head.status, head.headers.get('replay-nonce')]).toEqual([200, expect.stringMatching(/^[A-Za-z0-9_-]{43}$/)]);
    // RFC 8555 7.1: the "index" relation is on every resource but the directory itself.
    expect(res.headers.get('link')).toBeNull();
    const directory = (await res.json()) as Record<string, unknown>;
    expect(directory.newNonce).toBe(`${world.server.url}/acme/new-nonce`);
    expect(directory.newAccount).toBe(`${world.server.url}/acme/new-account`);
    expect(directory.keyChange).toBe(`${world.server.url}/acme/key-change`);
    expect(directory.meta).toEqual({ externalAccountRequired: false });
  });

  it('names the origin each client used, however many Host names reach it (the directory is held per origin)', async () => {
    const { port } = new URL(world.server.url);
    const directoryVia = (host: string) =>
      new Promise<Record<string, string>>((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port, path: '/acme/directory', headers: { host } }, (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve(JSON.parse(text) as Record<string, string>));
        });
        req.on('error', reject);
      });
    for (let round = 0; round < 2; round++) {
      for (const host of [`127.0.0.1:${port}`, `acme.example.test:${port}`, 'ACME.Other.test']) {
        expect((await directoryVia(host)).newOrder).toBe(`http://${host.toLowerCase()}/acme/new-order`);
      }
    }
  });

  it('answers HEAD new-nonce 200 and GET 204, no-store, each with a fresh nonce', async () => {
    const head = await fetch(`${world.server.url}/acme/new-nonce`, { method: 'HEAD' });
    const get = await fetch(`${world.server.url}/acme/new-nonce`);
    expect([head.status, get.status]).toEqual([200, 204]);
    for (const res of [head, get]) expect(res.headers.get('cache-control')).toBe('no-store');
    expect(head.headers.get('replay-nonce')).not.toBe(get.headers.get('replay-nonce'));
    expect(head.headers.get('link')).toBe(`<${directoryUrl}>;rel="index"`);
  });
});

describe('ACME accounts with acme-client', () => {
  it.each([
    ['ECDSA P-256', () => acme.crypto.createPrivateEcdsaKey('P-256')],
    ['ECDSA P-384', () => acme.crypto.createPrivateEcdsaKey('P-384')],
    ['ECDSA P-521', () => acme.crypto.createPrivateEcdsaKey('P-521')],
    ['RSA 2048', () => acme.crypto.createPrivateRsaKey(2048)],
  ])('creates, finds, updates and deactivates an account (%s key)', async (_name, makeKey) => {
    const accountKey = await makeKey();
    const client = new acme.Client({ directoryUrl, accountKey });
    const created = await client.createAccount({ termsOfServiceAgreed: true, contact: ['mailto:ops@example.test'] });
    expect(created).toMatchObject({ status: 'valid', contact: ['mailto:ops@example.test'] });
    const accountUrl = client.getAccountUrl();
    expect(accountUrl).toMatch(new RegExp(`^${world.server.url}/acme/acct/acct-`));

    // The same key again (a new client object): the same account, 200, same URL.
    const again = new acme.Client({ directoryUrl, accountKey });
    await again.createAccount({ onlyReturnExisting: true });
    expect(again.getAccountUrl()).toBe(accountUrl);

    const updated = await client.updateAccount({ contact: ['mailto:pki@example.test', 'mailto:oncall@example.test'] });
    expect(updated.contact).toEqual(['mailto:pki@example.test', 'mailto:oncall@example.test']);
    const deactivated = await client.updateAccount({ status: 'deactivated' });
    expect(deactivated.status).toBe('deactivated');
    // A deactivated account can no longer sign anything.
    await expect(client.updateAccount({ contact: [] })).rejects.toThrow(/deactivated/);

    const events = await auditEventsOf(world.server, accountUrl.split('/').pop()!);
    expect(events.map((e) => `${e.actor_type}:${e.action}`)).toEqual([
      'ACMEAccount:acme_account_created',
      'ACMEAccount:acme_account_updated',
      'ACMEAccount:acme_account_deactivated',
    ]);
  });

  it('answers onlyReturnExisting for an unknown key with accountDoesNotExist', async () => {
    const client = new acme.Client({ directoryUrl, accountKey: await acme.crypto.createPrivateEcdsaKey() });
    await expect(client.createAccount({ onlyReturnExisting: true })).rejects.toThrow(/no account exists/);
  });

  it('refuses contacts it cannot use', async () => {
    const client = new acme.Client({ directoryUrl, accountKey: await acme.crypto.createPrivateEcdsaKey() });
    await expect(client.createAccount({ termsOfServiceAgreed: true, contact: ['tel:+15551234'] })).rejects.toThrow(/only mailto/);
    await expect(client.createAccount({ termsOfServiceAgreed: true, contact: ['mailto:a@b.test?subject=x'] })).rejects.toThrow(/exactly one address/);
  });
});

describe('ACME key change', () => {
  it('rolls the account key with acme-client: same account URL, the old key stops working, audited', async () => {
    const oldKey = await acme.crypto.createPrivateEcdsaKey();
    const client = new acme.Client({ directoryUrl, accountKey: oldKey });
    await client.createAccount({ termsOfServiceAgreed: true });
    const accountUrl = client.getAccountUrl();
    const stale = new acme.Client({ directoryUrl, accountKey: oldKey, accountUrl });

    const newKey = await acme.crypto.createPrivateRsaKey(2048);
    const changed = await client.updateAccountKey(newKey);
    expect(changed.status).toBe('valid');
    expect(client.getAccountUrl()).toBe(accountUrl);
    expect((await client.updateAccount({ contact: ['mailto:new@example.test'] })).contact).toEqual(['mailto:new@example.test']);
    // The old key (ES256) no longer fits the account's key (RSA).
    await expect(stale.updateAccount({ contact: [] })).rejects.toThrow(/ES256 does not fit the rsa key/);
    // The new key finds the same account; the old key finds none.
    const found = new acme.Client({ directoryUrl, accountKey: newKey });
    await found.createAccount({ onlyReturnExisting: true });
    expect(found.getAccountUrl()).toBe(accountUrl);
    await expect(new acme.Client({ directoryUrl, accountKey: oldKey }).createAccount({ onlyReturnExisting: true })).rejects.toThrow(/no account exists/);
    const events = await auditEventsOf(world.server, accountUrl.split('/').pop()!);
    expect(events.filter((e) => e.action === 'acme_account_key_changed')).toHaveLength(1);
  });

  it('refuses a key another account holds with 409 and that account in Location', async () => {
    const holderKey = await acme.crypto.createPrivateEcdsaKey();
    const holder = new acme.Client({ directoryUrl, accountKey: holderKey });
    await holder.createAccount({ termsOfServiceAgreed: true });
    const clientKey = await acme.crypto.createPrivateEcdsaKey();
    const client = new acme.Client({ directoryUrl, accountKey: clientKey });
    await client.createAccount({ termsOfServiceAgreed: true });
    const error = await client.updateAccountKey(holderKey).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    expect(error?.message).toMatch(/already the key of another account/);
    // The same by hand, to see the status and the Location of the account that holds the key.
    const url = `${world.server.url}/acme/key-change`;
    const outerKey = createPrivateKey(clientKey);
    const innerKey = createPrivateKey(holderKey);
    const inner = jws(
      innerKey,
      { jwk: createPublicKey(innerKey).export({ format: 'jwk' }), url },
      { account: client.getAccountUrl(), oldKey: createPublicKey(outerKey).export({ format: 'jwk' }) },
    );
    const answer = await post('/acme/key-change', jws(outerKey, { kid: client.getAccountUrl(), nonce: await freshNonce(), url }, inner));
    expect(answer.status).toBe(409);
    expect(answer.res.headers.get('location')).toBe(holder.getAccountUrl());
  });

  it('refuses an inner JWS for another URL or over another old key', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const created = await post(
      '/acme/new-account',
      jws(privateKey, { jwk: publicKey.export({ format: 'jwk' }), nonce: await freshNonce(), url: `${world.server.url}/acme/new-account` }, {}),
    );
    const kid = created.res.headers.get('location')!;
    const url = `${world.server.url}/acme/key-change`;
    const next = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const nextJwk = next.publicKey.export({ format: 'jwk' });
    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
    const cases: Array<[Record<string, unknown>, Record<string, unknown>, number, string]> = [
      [{ jwk: nextJwk, url: `${url}/x` }, { account: kid, oldKey: publicKey.export({ format: 'jwk' }) }, 403, 'unauthorized'],
      [{ jwk: nextJwk, url }, { account: kid, oldKey: stranger }, 403, 'unauthorized'],
      [{ jwk: nextJwk, url }, { account: `${kid}x`, oldKey: publicKey.export({ format: 'jwk' }) }, 403, 'unauthorized'],
      [{ kid, url }, { account: kid, oldKey: publicKey.export({ format: 'jwk' }) }, 400, 'malformed'],
    ];
    for (const [header, payload, status, type] of cases) {
      const inner = JSON.parse(jws(next.privateKey, header, payload)) as unknown;
      const answer = await post('/acme/key-change', jws(privateKey, { kid, nonce: await freshNonce(), url }, JSON.stringify(inner)));
      expect({ status: answer.status, type: answer.body?.type }, JSON.stringify(header)).toEqual({ status, type: `urn:ietf:params:acme:error:${type}` });
    }
  });
});

describe('ACME requests a client would not make', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const newAccountUrl = () => `${world.server.url}/acme/new-account`;

  it('spends a nonce once: a replay is badNonce, and the fresh nonce it carries works', async () => {
    const nonce = await freshNonce();
    const first = await post('/acme/new-account', jws(privateKey, { jwk, nonce, url: newAccountUrl() }, {}));
    expect(first.status).toBe(201);
    const replay = await post('/acme/new-account', jws(privateKey, { jwk, nonce, url: newAccountUrl() }, {}));
    expectProblem(replay, 400, 'badNonce');
    const retried = await post('/acme/new-account', jws(privateKey, { jwk, nonce: replay.nonce, url: newAccountUrl() }, {}));
    expect(retried.status).toBe(200);
    expect(retried.res.headers.get('location')).toBe(first.res.headers.get('location'));
  });

  it('spends a nonce once when many requests carry it at the same time (they are spent in one batch)', async () => {
    const nonce = await freshNonce();
    // Fresh nonces alongside, so batches hold distinct nonces too.
    const others = await Promise.all(Array.from({ length: 8 }, () => freshNonce()));
    const sends = [...Array.from({ length: 12 }, () => nonce), ...others].map((n) =>
      post('/acme/new-account', jws(privateKey, { jwk, nonce: n, url: newAccountUrl() }, { onlyReturnExisting: true })),
    );
    const answers = await Promise.all(sends);
    const withShared = answers.slice(0, 12);
    expect(withShared.filter((a) => a.status === 200)).toHaveLength(1);
    for (const a of withShared.filter((x) => x.status !== 200)) expectProblem(a, 400, 'badNonce');
    expect(answers.slice(12).map((a) => a.status)).toEqual(others.map(() => 200));
  });

  it('answers a URL under /acme/ that names no resource with a problem document and a nonce', async () => {
    // acme-client, lego and certbot parse every error as a problem and retry with its nonce.
    expectProblem(await post('/acme/acct/', '{}'), 404, 'malformed');
    expectProblem(await post('/acme/no-such-thing', '{}'), 404, 'malformed');
    const wrongMethod = await fetch(`${world.server.url}/acme/new-order`, { method: 'PUT' });
    expect([wrongMethod.status, wrongMethod.headers.get('content-type'), wrongMethod.headers.get('allow')]).toEqual([405, 'application/problem+json', 'POST']);
    expect(wrongMethod.headers.get('replay-nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // A GET of it: the same problem, without a nonce (no GET but new-nonce's carries one).
    const got = await fetch(`${world.server.url}/acme/new-order`);
    expect([got.status, got.headers.get('content-type'), got.headers.get('replay-nonce')]).toEqual([405, 'application/problem+json', null]);
    // The REST API keeps its own envelope.
    expect(((await (await fetch(`${world.server.url}/api/v1/no-such-thing`)).json()) as { code: string }).code).toBe('CF_ERR_NOT_FOUND');
  });

  it('names each defect with its problem type', async () => {
    const url = newAccountUrl();
    expectProblem(await post('/acme/new-account', jws(privateKey, { jwk, nonce: await freshNonce(), url: `${url}x` }, {})), 403, 'unauthorized');
    expectProblem(await post('/acme/new-account', jws(privateKey, { jwk, nonce: 'forged', url }, {})), 400, 'badNonce');
    expectProblem(await post('/acme/new-account', jws(privateKey, { jwk, url }, {})), 400, 'badNonce');
    expectProblem(await post('/acme/new-account', '{"protected":"e30","payload":"","signature":"!"}'), 400, 'malformed');
    expectProblem(await post('/acme/new-account', 'not json'), 400, 'malformed');
    expectProblem(await post('/acme/new-account', jws(privateKey, { jwk, nonce: await freshNonce(), url }, {}), 'application/json'), 415, 'malformed');
    const hs = JSON.stringify({ protected: b64(JSON.stringify({ alg: 'HS256', jwk, nonce: await freshNonce(), url })), payload: '', signature: '' });
    const badAlg = await post('/acme/new-account', hs);
    expectProblem(badAlg, 400, 'badSignatureAlgorithm');
    expect(badAlg.body?.algorithms).toContain('ES384');
    // kid on new-account, jwk on an account URL, an unknown kid.
    expectProblem(
      await post('/acme/new-account', jws(privateKey, { kid: `${world.server.url}/acme/acct/acct-x`, nonce: await freshNonce(), url }, {})),
      400,
      'malformed',
    );
    const unknownKid = `${world.server.url}/acme/acct/acct-nobody`;
    expectProblem(
      await post('/acme/acct/acct-nobody', jws(privateKey, { kid: unknownKid, nonce: await freshNonce(), url: unknownKid }, '')),
      400,
      'accountDoesNotExist',
    );
    // A signature by another key than the jwk names.
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    expectProblem(await post('/acme/new-account', jws(other, { jwk, nonce: await freshNonce(), url }, {})), 400, 'malformed');
    // A private key in the jwk.
    const leaked = privateKey.export({ format: 'jwk' });
    expectProblem(await post('/acme/new-account', jws(privateKey, { jwk: leaked, nonce: await freshNonce(), url }, {})), 400, 'badPublicKey');
    // An RSA exponent other than 65537 (a long one would make the signature check expensive).
    const exponent3 = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 3 });
    const e3 = exponent3.publicKey.export({ format: 'jwk' });
    const refused = await post('/acme/new-account', jws(exponent3.privateKey, { alg: 'RS256', jwk: e3, nonce: await freshNonce(), url }, {}));
    expectProblem(refused, 400, 'badPublicKey');
    expect(refused.body?.detail).toMatch(/exponent 65537 \(this one has 3\)/);
  });

  it('refuses a bad P-384 signature verified in the worker pool the same way', async () => {
    const signer = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const named = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'jwk' });
    const protectedB64 = b64(JSON.stringify({ alg: 'ES384', jwk: named, nonce: await freshNonce(), url: newAccountUrl() }));
    const payloadB64 = b64('{}');
    const signature = sign('sha384', Buffer.from(`${protectedB64}.${payloadB64}`), { key: signer.privateKey, dsaEncoding: 'ieee-p1363' });
    expectProblem(
      await post('/acme/new-account', JSON.stringify({ protected: protectedB64, payload: payloadB64, signature: b64(signature) })),
      400,
      'malformed',
    );
  });

  it('keeps an account to its own key: another account cannot read or change it', async () => {
    const a = new acme.Client({ directoryUrl, accountKey: await acme.crypto.createPrivateEcdsaKey() });
    await a.createAccount({ termsOfServiceAgreed: true });
    const nonce = await freshNonce();
    const created = await post('/acme/new-account', jws(privateKey, { jwk, nonce, url: newAccountUrl() }, {}));
    const ownKid = created.res.headers.get('location')!;
    const victim = a.getAccountUrl();
    const path = new URL(victim).pathname;
    expectProblem(await post(path, jws(privateKey, { kid: ownKid, nonce: await freshNonce(), url: victim }, { contact: [] })), 403, 'unauthorized');
  });

  it('answers an oversize body 413 in ACME terms', async () => {
    const big = await post('/acme/new-account', `{"payload":"${'A'.repeat(2 * 1024 * 1024)}"}`);
    expectProblem(big, 413, 'malformed');
  });
});

describe('PS256 and EdDSA account keys (hand-signed: acme-client has neither)', () => {
  it.each([
    ['PS256', 'PS256', generateKeyPairSync('rsa', { modulusLength: 2048 })],
    ['EdDSA (Ed25519)', 'EdDSA', generateKeyPairSync('ed25519')],
    ['EdDSA (Ed448, verified on the worker pool)', 'EdDSA', generateKeyPairSync('ed448')],
  ] as const)('creates an account with %s', async (_label, alg, pair) => {
    const jwk = pair.publicKey.export({ format: 'jwk' });
    const protectedB64 = b64(JSON.stringify({ alg, jwk, nonce: await freshNonce(), url: `${world.server.url}/acme/new-account` }));
    const payloadB64 = b64('{"termsOfServiceAgreed":true}');
    const data = Buffer.from(`${protectedB64}.${payloadB64}`);
    const signature =
      alg === 'PS256'
        ? sign('sha256', data, { key: pair.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST })
        : sign(null, data, pair.privateKey);
    const answer = await post('/acme/new-account', JSON.stringify({ protected: protectedB64, payload: payloadB64, signature: b64(signature) }));
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ status: 'valid', termsOfServiceAgreed: true });
  });
});

describe('ACME GC', () => {
  it('deletes spent nonces past their expiry and idle rate-limit rows, in batches, and keeps live ones', async () => {
    await withClient(world.server.db.url, async (c) => {
      await c.query(
        "INSERT INTO acme_spent_nonces (id, expires_at) SELECT decode(md5(g::text), 'hex'), now() - interval '1 minute' FROM generate_series(1, 25) g",
      );
      await c.query("INSERT INTO acme_spent_nonces (id, expires_at) VALUES ('\\x00ff', now() + interval '1 hour')");
      const repo = createAcmeServerRepository(c as unknown as Pool);
      expect(await repo.deleteExpiredNonces(10)).toBe(10);
      expect(await repo.deleteExpiredNonces(100)).toBe(15);
      const left = await c.query<{ n: string }>("SELECT count(*) AS n FROM acme_spent_nonces WHERE id = '\\x00ff'");
      expect(left.rows[0]!.n).toBe('1');

      // Rate-limit buckets full again (arrival time past) go; a bucket still refilling stays.
      await c.query(
        "INSERT INTO acme_rate_limits (name, key, tat) VALUES ('t', 'idle', now() - interval '1 second'), ('t', 'busy', now() + interval '1 hour')",
      );
      expect(await repo.deleteIdleRateLimits(100)).toBeGreaterThanOrEqual(1);
      const kept = await c.query<{ key: string }>("SELECT key FROM acme_rate_limits WHERE name = 't'");
      expect(kept.rows.map((r) => r.key)).toEqual(['busy']);
    });
  });
});
