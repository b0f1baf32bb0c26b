import { constants, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { importJwk, jwkThumbprint, parseJws, verifyJws, type SignatureAlgorithm } from './jws.ts';
import { AcmeProblem } from './problems.ts';

const b64 = (value: string | Buffer) => Buffer.from(value).toString('base64url');

function keyFor(alg: SignatureAlgorithm): { privateKey: KeyObject; publicKey: KeyObject } {
  if (alg.startsWith('RS') || alg.startsWith('PS')) return generateKeyPairSync('rsa', { modulusLength: 2048 });
  if (alg === 'ES256') return generateKeyPairSync('ec', { namedCurve: 'P-256' });
  if (alg === 'ES384') return generateKeyPairSync('ec', { namedCurve: 'P-384' });
  if (alg === 'ES512') return generateKeyPairSync('ec', { namedCurve: 'P-521' });
  return generateKeyPairSync('ed25519');
}

/** Signs like a client would (RFC 7515 flattened), independently of the code under test. */
function signJws(alg: string, privateKey: KeyObject, header: Record<string, unknown>, payload: string) {
  const protectedB64 = b64(JSON.stringify({ alg, ...header }));
  const payloadB64 = b64(payload);
  const data = Buffer.from(`${protectedB64}.${payloadB64}`);
  const hash = alg === 'EdDSA' ? null : `sha${alg.slice(2)}`;
  const signature = alg.startsWith('PS')
    ? sign(hash, data, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST })
    : alg.startsWith('ES')
      ? sign(hash, data, { key: privateKey, dsaEncoding: 'ieee-p1363' })
      : sign(hash, data, privateKey);
  return { protected: protectedB64, payload: payloadB64, signature: b64(signature) };
}

function problemOf(fn: () => unknown): { type: string; status: number } {
  try {
    fn();
  } catch (err) {
    if (err instanceof AcmeProblem) return { type: err.type, status: err.status };
    throw err;
  }
  throw new Error('no problem thrown');
}

describe('ACME JWS', () => {
  it.each(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const)(
    'verifies %s and rejects a tampered payload',
    (alg) => {
      const { privateKey, publicKey } = keyFor(alg);
      const jwk = publicKey.export({ format: 'jwk' });
      const body = signJws(alg, privateKey, { jwk, nonce: 'n', url: 'https://ca.test/acme/new-account' }, '{"termsOfServiceAgreed":true}');
      const parsed = parseJws(body);
      expect(parsed.payload).toBe('{"termsOfServiceAgreed":true}');
      verifyJws(parsed, importJwk(parsed.header.jwk!));
      const tampered = parseJws({ ...body, payload: b64('{"termsOfServiceAgreed":false}') });
      expect(problemOf(() => verifyJws(tampered, importJwk(tampered.header.jwk!)))).toEqual({ type: 'malformed', status: 400 });
    },
  );

  it('answers badSignatureAlgorithm with the accepted list for none, HS256 and an alg that does not fit the key', () => {
    const { privateKey, publicKey } = keyFor('ES256');
    const jwk = publicKey.export({ format: 'jwk' });
    for (const alg of ['none', 'HS256', 'ES257']) {
      const body = { protected: b64(JSON.stringify({ alg, jwk, url: 'u', nonce: 'n' })), payload: '', signature: '' };
      expect(problemOf(() => parseJws(body))).toEqual({ type: 'badSignatureAlgorithm', status: 400 });
    }
    // ES384 header, P-256 key.
    const wrongCurve = parseJws(signJws('ES256', privateKey, { jwk, url: 'u', nonce: 'n' }, ''));
    wrongCurve.header.alg = 'ES384';
    expect(problemOf(() => verifyJws(wrongCurve, importJwk(jwk)))).toEqual({ type: 'badSignatureAlgorithm', status: 400 });
  });

  it('refuses malformed serializations with malformed', () => {
    const cases: unknown[] = [
      null,
      [],
      'a.b.c',
      { protected: 'eyJ=', payload: '', signature: '' },
      { protected: b64('not json'), payload: '', signature: '' },
      { protected: b64('[1]'), payload: '', signature: '' },
      { signatures: [], payload: '' },
      { protected: b64(JSON.stringify({ alg: 'ES256', url: 'u', kid: 'k', jwk: {} })), payload: '', signature: '' },
      { protected: b64(JSON.stringify({ alg: 'ES256' })), payload: '', signature: '' },
      { protected: b64(JSON.stringify({ alg: 'ES256', url: 'u', crit: ['x'] })), payload: '', signature: '' },
    ];
    for (const body of cases) expect(problemOf(() => parseJws(body)).type).toBe('malformed');
  });

  it('refuses keys with private members, small RSA keys, RSA exponents other than 65537 and unknown curves', () => {
    const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
    expect(problemOf(() => importJwk(rsa1024))).toEqual({ type: 'badPublicKey', status: 400 });
    const withPrivate = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
    expect(problemOf(() => importJwk(withPrivate))).toEqual({ type: 'badPublicKey', status: 400 });
    const secp256k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey.export({ format: 'jwk' });
    expect(problemOf(() => importJwk(secp256k1))).toEqual({ type: 'badPublicKey', status: 400 });
    expect(problemOf(() => importJwk({ kty: 'oct', k: 'AAAA' }))).toEqual({ type: 'badPublicKey', status: 400 });
    const exponent3 = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 3 }).publicKey.export({ format: 'jwk' });
    expect(problemOf(() => importJwk(exponent3))).toEqual({ type: 'badPublicKey', status: 400 });
    expect(problemOf(() => importJwk({ kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' }))).toEqual({ type: 'badPublicKey', status: 400 });
  });

  it('computes RFC 7638 thumbprints (the RFC 7638 3.1 example key)', () => {
    const key = importJwk({
      kty: 'RSA',
      n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
      e: 'AQAB',
    });
    expect(jwkThumbprint(key)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });
});
