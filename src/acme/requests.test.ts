import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifiesSlowly } from './requests.ts';

/** An RSA public key of `bits` bits with exponent 65537 (only its size matters here). */
function rsaOfBits(bits: number) {
  const n = randomBytes(bits / 8);
  n[0]! |= 0x80;
  n[n.length - 1]! |= 1;
  return createPublicKey({ key: { kty: 'RSA', n: n.toString('base64url'), e: 'AQAB' }, format: 'jwk' });
}

describe('where a JWS signature is verified', () => {
  it('sends P-384, P-521, Ed448 and RSA keys over 4,096 bits to the pool, and keeps the cheap ones inline', () => {
    expect(verifiesSlowly('ES256', generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey)).toBe(false);
    expect(verifiesSlowly('ES384', generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey)).toBe(true);
    expect(verifiesSlowly('ES512', generateKeyPairSync('ec', { namedCurve: 'P-521' }).publicKey)).toBe(true);
    expect(verifiesSlowly('RS256', rsaOfBits(4096))).toBe(false);
    expect(verifiesSlowly('RS256', rsaOfBits(4160))).toBe(true);
    expect(verifiesSlowly('PS512', rsaOfBits(8192))).toBe(true);
    expect(verifiesSlowly('EdDSA', generateKeyPairSync('ed25519').publicKey)).toBe(false);
    expect(verifiesSlowly('EdDSA', generateKeyPairSync('ed448').publicKey)).toBe(true);
  });
});
