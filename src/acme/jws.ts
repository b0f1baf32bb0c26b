/**
 * ACME's JWS (RFC 8555 6.2, RFC 7515 flattened JSON serialization): parsing, the algorithm and
 * key rules, and signature verification with node:crypto. Keys are parsed once into KeyObjects
 * (an account's key is cached by the caller; see AccountKeyCache).
 *
 * Accepted: RS256/384/512, PS256/384/512 (RSA 2048..8192 bits, exponent 65537), ES256/384/512
 * (the curve must match the algorithm), EdDSA (Ed25519, Ed448). Anything else is
 * badSignatureAlgorithm with the list, as RFC 8555 6.2 asks; `none` and MACs never verify a
 * request.
 */
import { createHash, createPublicKey, constants, verify, type KeyObject } from 'node:crypto';
import { rsaExponentProblem } from '../pki/public-key-rules.ts';
import { AcmeProblems } from './problems.ts';

export const signatureAlgorithms = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
export type SignatureAlgorithm = (typeof signatureAlgorithms)[number];

/** A JWK as sent: public members only (a key with private members is refused). */
export type Jwk = Record<string, unknown>;

export interface ProtectedHeader {
  alg: SignatureAlgorithm;
  nonce?: string;
  url: string;
  kid?: string;
  jwk?: Jwk;
}

/** A flattened JWS, decoded but not yet verified. */
export interface ParsedJws {
  header: ProtectedHeader;
  /** The base64url texts the signature covers: `${protected}.${payload}`. */
  signingInput: string;
  signature: Buffer;
  /** The decoded payload; '' for POST-as-GET. */
  payload: string;
}

const base64url = /^[A-Za-z0-9_-]*$/;
const privateMembers = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

function decodeSegment(value: unknown, what: string): Buffer {
  if (typeof value !== 'string' || !base64url.test(value)) throw AcmeProblems.malformed(`the JWS ${what} must be base64url without padding`);
  return Buffer.from(value, 'base64url');
}

/** `text` as a JSON object, or malformed naming `what` (a JWS part, or a payload). */
export function parseJsonObject(text: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw AcmeProblems.malformed(`the JWS ${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw AcmeProblems.malformed(`the JWS ${what} must be a JSON object`);
  return value as Record<string, unknown>;
}

/**
 * Decodes a flattened JWS (the body of every ACME POST, and the inner JWS of a key change).
 * Checks structure and header types only; `verifyJws` checks the signature.
 */
export function parseJws(body: unknown): ParsedJws {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw AcmeProblems.malformed('the body must be a flattened JWS JSON object');
  const jws = body as Record<string, unknown>;
  if ('signatures' in jws) throw AcmeProblems.malformed('a JWS with several signatures is not accepted; send the flattened serialization');
  if ('header' in jws) throw AcmeProblems.malformed('the JWS must not carry an unprotected header');
  const protectedText = decodeSegment(jws.protected, 'protected header').toString('utf8');
  decodeSegment(jws.payload, 'payload');
  const signature = decodeSegment(jws.signature, 'signature');
  const header = parseJsonObject(protectedText, 'protected header');
  const alg = header.alg;
  if (typeof alg !== 'string' || !(signatureAlgorithms as readonly string[]).includes(alg)) {
    throw AcmeProblems.badSignatureAlgorithm(`JWS algorithm ${JSON.stringify(alg)} is not accepted`, signatureAlgorithms);
  }
  if (typeof header.url !== 'string') throw AcmeProblems.malformed('the protected header must carry the request url');
  if (header.nonce !== undefined && typeof header.nonce !== 'string') throw AcmeProblems.malformed('the protected header nonce must be a string');
  if (header.kid !== undefined && typeof header.kid !== 'string') throw AcmeProblems.malformed('the protected header kid must be a string');
  if (header.jwk !== undefined && (typeof header.jwk !== 'object' || header.jwk === null || Array.isArray(header.jwk))) {
    throw AcmeProblems.malformed('the protected header jwk must be a JSON object');
  }
  if (header.kid !== undefined && header.jwk !== undefined) throw AcmeProblems.malformed('the protected header must carry kid or jwk, not both');
  if (Array.isArray(header.crit)) throw AcmeProblems.malformed('no critical header extensions are supported');
  return {
    header: header as unknown as ProtectedHeader,
    signingInput: `${jws.protected as string}.${jws.payload as string}`,
    signature,
    payload: Buffer.from(jws.payload as string, 'base64url').toString('utf8'),
  };
}

/** The JWK's key, checked: public only, a type and size this server accepts. */
export function importJwk(jwk: Jwk): KeyObject {
  for (const member of privateMembers) if (member in jwk) throw AcmeProblems.badPublicKey('the JWK must not contain private key members');
  if (jwk.kty !== 'RSA' && jwk.kty !== 'EC' && jwk.kty !== 'OKP') throw AcmeProblems.badPublicKey(`JWK key type ${JSON.stringify(jwk.kty)} is not accepted`);
  let key: KeyObject;
  try {
    key = createPublicKey({ key: jwk as never, format: 'jwk' });
  } catch (err) {
    throw AcmeProblems.badPublicKey(`the JWK is not a valid public key: ${(err as Error).message}`);
  }
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') {
    const bits = details.modulusLength ?? 0;
    if (bits < 2048 || bits > 8192) throw AcmeProblems.badPublicKey(`RSA keys must have 2048 to 8192 bits (this one has ${bits})`);
    const exponentProblem = rsaExponentProblem(key);
    if (exponentProblem) throw AcmeProblems.badPublicKey(exponentProblem);
  } else if (key.asymmetricKeyType === 'ec') {
    if (!['prime256v1', 'secp384r1', 'secp521r1'].includes(details.namedCurve ?? ''))
      throw AcmeProblems.badPublicKey('EC keys must be on P-256, P-384 or P-521');
  } else if (key.asymmetricKeyType !== 'ed25519' && key.asymmetricKeyType !== 'ed448') {
    throw AcmeProblems.badPublicKey(`key type ${key.asymmetricKeyType} is not accepted`);
  }
  return key;
}

const ecCurveFor: Partial<Record<SignatureAlgorithm, string>> = { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' };
const hashFor: Record<SignatureAlgorithm, string | null> = {
  RS256: 'sha256',
  RS384: 'sha384',
  RS512: 'sha512',
  PS256: 'sha256',
  PS384: 'sha384',
  PS512: 'sha512',
  ES256: 'sha256',
  ES384: 'sha384',
  ES512: 'sha512',
  EdDSA: null,
};

/** Does `key` suit `alg`? RS and PS need RSA, ES the curve of its size, EdDSA an Edwards key. */
export function algorithmFitsKey(alg: SignatureAlgorithm, key: KeyObject): boolean {
  const type = key.asymmetricKeyType;
  if (alg.startsWith('RS') || alg.startsWith('PS')) return type === 'rsa';
  if (alg === 'EdDSA') return type === 'ed25519' || type === 'ed448';
  return type === 'ec' && key.asymmetricKeyDetails?.namedCurve === ecCurveFor[alg];
}

/**
 * Verifies the signature of `jws` with `key`. An algorithm that does not fit the key is
 * badSignatureAlgorithm; a signature that does not verify is malformed (as Boulder and Pebble answer).
 */
export function verifyJws(jws: ParsedJws, key: KeyObject): void {
  const alg = jws.header.alg;
  if (!algorithmFitsKey(alg, key))
    throw AcmeProblems.badSignatureAlgorithm(`algorithm ${alg} does not fit the ${key.asymmetricKeyType} key`, signatureAlgorithms);
  const data = Buffer.from(jws.signingInput, 'latin1');
  let ok: boolean;
  if (alg.startsWith('PS')) {
    ok = verify(hashFor[alg], data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, jws.signature);
  } else if (alg.startsWith('ES')) {
    ok = verify(hashFor[alg], data, { key, dsaEncoding: 'ieee-p1363' }, jws.signature);
  } else {
    ok = verify(hashFor[alg], data, key, jws.signature);
  }
  if (!ok) throw AcmeProblems.malformed('the JWS signature does not verify');
}

/** Hex SHA-256 of a key's SubjectPublicKeyInfo: compares keys whatever their encoding (JWK, certificate, CSR). */
export function spkiSha256(key: KeyObject): string {
  return createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

/** RFC 7638 thumbprint (SHA-256, base64url) of a public JWK: the required members, in order. */
export function jwkThumbprint(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' });
  const members =
    jwk.kty === 'RSA'
      ? { e: jwk.e, kty: jwk.kty, n: jwk.n }
      : jwk.kty === 'EC'
        ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }
        : { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

/** The public JWK of a key as stored for an account (no private members, canonical members). */
export function publicJwk(key: KeyObject): Jwk {
  return key.export({ format: 'jwk' }) as Jwk;
}
