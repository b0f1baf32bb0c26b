/**
 * Two `certfleet serve` replicas on one PostgreSQL, no sticky routing: a nonce minted by one is
 * redeemed once at the other, and the ACME rate limits are one limit across both (their state
 * is a row, not a process's memory), answered 429 rateLimited with Retry-After.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import * as acme from 'acme-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { withClient } from '../support/fixtures.ts';
import { serve, type CertfleetProcess } from '../support/process.ts';
import { adminKey, testEncryptionKey } from '../support/server.ts';

let db: TestDatabase;
let a: CertfleetProcess & { url: string };
let b: CertfleetProcess & { url: string };

beforeAll(async () => {
  db = await createTestDatabase();
  const env = {
    DATABASE_URL: db.url,
    CERTFLEET_ADMIN_API_KEY: adminKey,
    CERTFLEET_ENCRYPTION_KEY: testEncryptionKey,
    CERTFLEET_WORKER_THREADS: '1',
    CERTFLEET_ACME_RATE_LIMIT_NEW_ACCOUNTS_PER_IP_PER_HOUR: '4',
    CERTFLEET_ACME_RATE_LIMIT_KEY_CHANGES_PER_ACCOUNT_PER_HOUR: '1',
  };
  [a, b] = await Promise.all([serve(env), serve(env)]);
});
afterAll(async () => {
  for (const p of [a, b]) p?.child.kill('SIGTERM');
  await Promise.all([a?.exited, b?.exited]);
  await db?.drop();
});

const b64 = (value: string | Buffer) => Buffer.from(value).toString('base64url');

async function newAccountAt(replica: { url: string }, nonce: string) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const url = `${replica.url}/acme/new-account`;
  const protectedB64 = b64(JSON.stringify({ alg: 'ES256', jwk: publicKey.export({ format: 'jwk' }), nonce, url }));
  const payloadB64 = b64('{"termsOfServiceAgreed":true}');
  const signature = sign('sha256', Buffer.from(`${protectedB64}.${payloadB64}`), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/jose+json' },
    body: JSON.stringify({ protected: protectedB64, payload: payloadB64, signature: b64(signature) }),
  });
  return { res, body: (await res.json()) as Record<string, unknown> };
}

const nonceFrom = async (replica: { url: string }) => (await fetch(`${replica.url}/acme/new-nonce`, { method: 'HEAD' })).headers.get('replay-nonce')!;

describe('ACME across two replicas', () => {
  it('redeems a nonce minted by one replica at the other, once; then limits new accounts per IP across both', async () => {
    const fromA = await nonceFrom(a);
    expect((await newAccountAt(b, fromA)).res.status).toBe(201);
    const replay = await newAccountAt(a, fromA);
    expect(replay.res.status).toBe(400);
    expect(replay.body.type).toBe('urn:ietf:params:acme:error:badNonce');

    // Limit 4 an hour: one account above, three more split across the replicas, then refusals on both.
    expect((await newAccountAt(a, await nonceFrom(b))).res.status).toBe(201);
    expect((await newAccountAt(b, await nonceFrom(a))).res.status).toBe(201);
    expect((await newAccountAt(a, await nonceFrom(a))).res.status).toBe(201);
    for (const replica of [a, b]) {
      const refused = await newAccountAt(replica, await nonceFrom(replica));
      expect(refused.res.status).toBe(429);
      expect(refused.res.headers.get('content-type')).toBe('application/problem+json');
      expect(refused.body.type).toBe('urn:ietf:params:acme:error:rateLimited');
      expect(refused.body.detail).toMatch(/too many new accounts from 127\.0\.0\.1: the limit is 4 per hour/);
      // One request refills every 900 s.
      const retryAfter = Number(refused.res.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(800);
      expect(retryAfter).toBeLessThanOrEqual(900);
      expect(refused.res.headers.get('replay-nonce')).toBeTruthy();
    }
  });

  it('limits key changes per account across both replicas', async () => {
    // The new-account bucket of 127.0.0.1 is full after the test above: empty it (rows are the
    // whole state of a limit), so this account can be made.
    await withClient(db.url, (c) => c.query("DELETE FROM acme_rate_limits WHERE name = 'newAccountsPerIp'"));
    const [first, second, third] = await Promise.all([1, 2, 3].map(() => acme.crypto.createPrivateEcdsaKey()));
    const onA = new acme.Client({ directoryUrl: `${a.url}/acme/directory`, accountKey: first! });
    await onA.createAccount({ termsOfServiceAgreed: true });
    await onA.updateAccountKey(second!);
    // The same account through replica B, with its current key: the one change an hour is spent.
    const onB = new acme.Client({ directoryUrl: `${b.url}/acme/directory`, accountKey: second! });
    await onB.createAccount({ onlyReturnExisting: true });
    // acme-client waits out Retry-After and tries again (as it should); here the wait is an
    // hour, so let the 429 through instead.
    const settings = (acme.axios.defaults as unknown as { acmeSettings: { retryMaxAttempts: number } }).acmeSettings;
    const attempts = settings.retryMaxAttempts;
    settings.retryMaxAttempts = 0;
    try {
      await expect(onB.updateAccountKey(third!)).rejects.toThrow(/too many key changes of account acct-[\w-]+: the limit is 1 per hour/);
    } finally {
      settings.retryMaxAttempts = attempts;
    }
  });

  it('refuses an account deactivated on one replica at the other within 1 s, though the other had it cached', async () => {
    await withClient(db.url, (c) => c.query("DELETE FROM acme_rate_limits WHERE name = 'newAccountsPerIp'"));
    const key = await acme.crypto.createPrivateEcdsaKey();
    const onA = new acme.Client({ directoryUrl: `${a.url}/acme/directory`, accountKey: key });
    await onA.createAccount({ termsOfServiceAgreed: true });
    // The same account through B by its kid (B's own origin): B now holds it in its cache.
    const onB = new acme.Client({ directoryUrl: `${b.url}/acme/directory`, accountKey: key, accountUrl: onA.getAccountUrl().replace(a.url, b.url) });
    expect((await onB.updateAccount({})).status).toBe('valid');
    expect((await onB.updateAccount({})).status).toBe('valid');
    await onA.updateAccount({ status: 'deactivated' });
    const deactivatedAt = performance.now();
    let refusedAfterMs: number | undefined;
    while (performance.now() - deactivatedAt < 5_000) {
      const refused = await onB.updateAccount({}).then(
        () => false,
        (err: Error) => /is deactivated/.test(err.message),
      );
      if (refused) {
        refusedAfterMs = performance.now() - deactivatedAt;
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(refusedAfterMs).toBeDefined();
    expect(refusedAfterMs!).toBeLessThan(1_000);
  });
});
