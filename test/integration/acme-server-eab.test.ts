/**
 * External Account Binding end to end: an admin creates a key over the REST API (HMAC key shown
 * once, stored sealed), acme-client binds an account with it on a server that requires EAB, and
 * the key then binds nothing else; revoked, unknown and forged bindings are refused.
 */
import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import * as acme from 'acme-client';
import { beforeAll, describe, expect, it } from 'vitest';
import { auditEventsOf } from '../support/audit-events.ts';
import { withClient } from '../support/fixtures.ts';
import { useTestWorld } from '../support/world.ts';

let directoryUrl: string;

const world = useTestWorld({ env: { CERTFLEET_ACME_EAB_REQUIRED: 'true' }, inventory: false });

beforeAll(async () => {
  directoryUrl = `${world.server.url}/acme/directory`;
});

async function createEabKey(name: string): Promise<{ id: string; hmac_key: string; directory_url: string }> {
  const res = await world.server.request('/api/v1/acme/eab-keys', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; hmac_key: string; directory_url: string };
}

describe('ACME External Account Binding', () => {
  it('advertises that EAB is required and refuses an account without one', async () => {
    const directory = (await (await fetch(directoryUrl)).json()) as { meta: { externalAccountRequired: boolean } };
    expect(directory.meta.externalAccountRequired).toBe(true);
    const client = new acme.Client({ directoryUrl, accountKey: await acme.crypto.createPrivateEcdsaKey() });
    await expect(client.createAccount({ termsOfServiceAgreed: true })).rejects.toThrow(/requires an external account binding/);
  });

  it('binds an account with a key an admin created, once; the key is listed without its secret', async () => {
    const key = await createEabKey('team payments');
    expect(key.directory_url).toBe(directoryUrl);
    expect(Buffer.from(key.hmac_key, 'base64url')).toHaveLength(32);
    const sealed = await withClient(world.server.db.url, (c) =>
      c.query<{ hmac_key_sealed: Buffer }>('SELECT hmac_key_sealed FROM acme_eab_keys WHERE id = $1', [key.id]),
    );
    expect(sealed.rows[0]!.hmac_key_sealed.includes(Buffer.from(key.hmac_key, 'base64url'))).toBe(false);

    const accountKey = await acme.crypto.createPrivateEcdsaKey('P-384');
    const client = new acme.Client({ directoryUrl, accountKey, externalAccountBinding: { kid: key.id, hmacKey: key.hmac_key } });
    await client.createAccount({ termsOfServiceAgreed: true });
    const accountId = client.getAccountUrl().split('/').pop()!;
    const listed = (await (await world.server.request(`/api/v1/acme/eab-keys/${key.id}`)).json()) as Record<string, unknown>;
    expect(listed).toMatchObject({ id: key.id, name: 'team payments', account_id: accountId });
    expect(listed.bound_at).not.toBeNull();
    expect(JSON.stringify(listed)).not.toContain(key.hmac_key);

    // The same EAB key for another account key: already bound.
    const second = new acme.Client({
      directoryUrl,
      accountKey: await acme.crypto.createPrivateEcdsaKey(),
      externalAccountBinding: { kid: key.id, hmacKey: key.hmac_key },
    });
    await expect(second.createAccount({ termsOfServiceAgreed: true })).rejects.toThrow(/already bound/);
    // The bound account itself, again (a client that lost its account URL): found, 200.
    const again = new acme.Client({ directoryUrl, accountKey });
    await again.createAccount({ onlyReturnExisting: true });
    expect(again.getAccountUrl()).toBe(client.getAccountUrl());
  });

  it('refuses a revoked key, an unknown key and a wrong HMAC key', async () => {
    const revoked = await createEabKey('revoked');
    expect((await world.server.request(`/api/v1/acme/eab-keys/${revoked.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await world.server.request(`/api/v1/acme/eab-keys/${revoked.id}`, { method: 'DELETE' })).status).toBe(204);
    const attempt = (kid: string, hmacKey: string) =>
      acme.crypto
        .createPrivateEcdsaKey()
        .then((accountKey) =>
          new acme.Client({ directoryUrl, accountKey, externalAccountBinding: { kid, hmacKey } }).createAccount({ termsOfServiceAgreed: true }),
        );
    await expect(attempt(revoked.id, revoked.hmac_key)).rejects.toThrow(/unknown or revoked/);
    await expect(attempt('eab-nonexistent', revoked.hmac_key)).rejects.toThrow(/unknown or revoked/);
    const live = await createEabKey('live');
    await expect(attempt(live.id, Buffer.alloc(32, 7).toString('base64url'))).rejects.toThrow(/MAC does not verify/);
    // Still unbound after the failed attempt.
    expect(((await (await world.server.request(`/api/v1/acme/eab-keys/${live.id}`)).json()) as { account_id: null }).account_id).toBeNull();
    const listed = (await (await world.server.request('/api/v1/acme/eab-keys')).json()) as { data: Array<{ id: string }> };
    expect(listed.data.map((k) => k.id)).toContain(live.id);
    expect(listed.data.map((k) => k.id)).not.toContain(revoked.id);
  });

  it('refuses a binding over another key than the account key', async () => {
    const key = await createEabKey('swap');
    const account = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
    const url = `${world.server.url}/acme/new-account`;
    const b64 = (v: string | Buffer) => Buffer.from(v).toString('base64url');
    const eabProtected = b64(JSON.stringify({ alg: 'HS256', kid: key.id, url }));
    const eabPayload = b64(JSON.stringify(other));
    const eab = {
      protected: eabProtected,
      payload: eabPayload,
      signature: b64(createHmac('sha256', Buffer.from(key.hmac_key, 'base64url')).update(`${eabProtected}.${eabPayload}`).digest()),
    };
    const nonce = (await fetch(`${world.server.url}/acme/new-nonce`, { method: 'HEAD' })).headers.get('replay-nonce');
    const protectedB64 = b64(JSON.stringify({ alg: 'ES256', jwk: account.publicKey.export({ format: 'jwk' }), nonce, url }));
    const payloadB64 = b64(JSON.stringify({ termsOfServiceAgreed: true, externalAccountBinding: eab }));
    const signature = sign('sha256', Buffer.from(`${protectedB64}.${payloadB64}`), { key: account.privateKey, dsaEncoding: 'ieee-p1363' });
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/jose+json' },
      body: JSON.stringify({ protected: protectedB64, payload: payloadB64, signature: b64(signature) }),
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { type: string; detail: string }).detail).toMatch(/binds another key/);
  });

  it('keeps EAB key management to admins and audits it', async () => {
    const key = await createEabKey('audited');
    expect((await auditEventsOf(world.server, key.id)).map((e) => e.action)).toEqual(['acme_eab_key_created']);
    expect((await world.server.request('/api/v1/acme/eab-keys', { auth: null })).status).toBe(401);
  });
});
