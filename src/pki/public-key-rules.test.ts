import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildCsr } from './csr-builder.ts';
import { checkCsr } from './csr-check.ts';
import { rsaExponentProblem } from './public-key-rules.ts';

const derOf = (pem: string) => Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');

describe('public key rules', () => {
  it('accepts RSA keys with the exponent 65537 and any other key type', () => {
    expect(rsaExponentProblem(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey)).toBeUndefined();
    expect(rsaExponentProblem(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey)).toBeUndefined();
  });

  it('refuses other RSA exponents, small or as long as the modulus, and says which', () => {
    expect(rsaExponentProblem(generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 3 }).publicKey)).toBe(
      'RSA keys must use the public exponent 65537 (this one has 3)',
    );
    const jwk = generateKeyPairSync('rsa', { modulusLength: 3072 }).publicKey.export({ format: 'jwk' });
    const modulus = Buffer.from(jwk.n!, 'base64url');
    const exponent = Buffer.from(modulus);
    exponent[0] = exponent[0]! >> 1; // below the modulus
    exponent[exponent.length - 1]! |= 1; // odd
    const slow = createPublicKey({ key: { kty: 'RSA', n: jwk.n!, e: exponent.toString('base64url') }, format: 'jwk' });
    expect(rsaExponentProblem(slow)).toMatch(/^RSA keys must use the public exponent 65537 \(this one has a 307\d-bit number\)$/);
  });

  it('refuses a CSR for its key before checking its signature', () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 3 });
    const der = derOf(buildCsr(small.privateKey, small.publicKey, 'e3.example.test'));
    expect(checkCsr(der, ['e3.example.test'], null)).toEqual({
      ok: false,
      field: 'csr_pem',
      reason: 'RSA keys must use the public exponent 65537 (this one has 3)',
    });
    // A broken signature on an unsupported key reports the key: the key is judged first.
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const broken = derOf(buildCsr(weak.privateKey, weak.publicKey, 'weak.example.test'));
    broken[broken.length - 1]! ^= 0xff;
    expect(checkCsr(broken, ['weak.example.test'], null)).toEqual({ ok: false, field: 'csr_pem', reason: 'RSA keys must be 2048 to 4096 bits (got 1024)' });
    const good = generateKeyPairSync('rsa', { modulusLength: 2048 });
    expect(checkCsr(derOf(buildCsr(good.privateKey, good.publicKey, 'ok.example.test')), ['ok.example.test'], null)).toMatchObject({ ok: true });
  });
});
