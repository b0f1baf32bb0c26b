import { createCipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { NonceService, type SpentNonces } from './nonces.ts';
import { AcmeProblem } from './problems.ts';

/** Two replicas share the key and the spent set (the database in production). */
function replicas(ttlSeconds = 600) {
  const spent = new Map<string, Date>();
  const store: SpentNonces & { queries: number } = {
    queries: 0,
    async spend(id, expiresAt) {
      store.queries++;
      const key = id.toString('hex');
      if (spent.has(key)) return false;
      spent.set(key, expiresAt);
      return true;
    },
  };
  const key = randomBytes(32);
  return { a: new NonceService({ key, ttlSeconds, spent: store }), b: new NonceService({ key, ttlSeconds, spent: store }), store };
}

async function badNonce(promise: Promise<void>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof AcmeProblem && err.type === 'badNonce' && err.status === 400) return err.message;
    throw err;
  }
  throw new Error('redeemed');
}

describe('nonces', () => {
  it('are redeemable once, at any replica', async () => {
    const { a, b } = replicas();
    const nonce = a.mint();
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await b.redeem(nonce);
    expect(await badNonce(a.redeem(nonce))).toMatch(/already used/);
    expect(await badNonce(b.redeem(nonce))).toMatch(/already used/);
  });

  it('are unique across many mints and across replicas', () => {
    const { a, b } = replicas();
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) seen.add(a.mint()).add(b.mint());
    expect(seen.size).toBe(40_000);
  });

  it('reject forged, mangled, foreign and expired nonces without touching the spent set', async () => {
    const { a, store } = replicas(60);
    const other = new NonceService({ key: randomBytes(32), ttlSeconds: 60, spent: store });
    const genuine = a.mint();
    const flipped = `${genuine.slice(0, 10)}${genuine[10] === 'A' ? 'B' : 'A'}${genuine.slice(11)}`;
    expect(await badNonce(a.redeem(flipped))).toMatch(/not issued/);
    expect(await badNonce(a.redeem(other.mint()))).toMatch(/not issued/);
    expect(await badNonce(a.redeem('short'))).toMatch(/not issued/);
    expect(await badNonce(a.redeem(`${genuine.slice(0, 42)}!`))).toMatch(/not issued/);
    expect(await badNonce(a.redeem(undefined))).toMatch(/no nonce/);
    const old = a.mint(Date.now() - 61_000);
    expect(await badNonce(a.redeem(old))).toMatch(/expired/);
    expect(store.queries).toBe(0);
    await a.redeem(genuine);
    expect(store.queries).toBe(1);
  });

  it('tag each identity with its own AES block under the derived key, whatever was tagged before', () => {
    // The oracle: a fresh cipher per nonce, so the long-lived one is shown to carry nothing
    // from one block to the next.
    const key = randomBytes(32);
    const nonces = new NonceService({ key, ttlSeconds: 60, spent: { spend: async () => true } });
    const tagKey = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'certfleet acme nonce tag', 32));
    for (let i = 0; i < 500; i++) {
      const raw = Buffer.from(nonces.mint(), 'base64url');
      const oracle = createCipheriv('aes-256-ecb', tagKey, null).setAutoPadding(false).update(raw.subarray(0, 16));
      expect(raw.subarray(16).equals(oracle), `nonce ${i}`).toBe(true);
      expect(raw.subarray(16).equals(raw.subarray(0, 16))).toBe(false);
    }
  });
});
