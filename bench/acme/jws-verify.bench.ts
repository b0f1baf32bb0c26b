/**
 * ACME JWS verification per algorithm (src/acme/jws.ts): parse the flattened JWS and verify its
 * signature with a cached KeyObject, as every ACME POST does. This decides whether verification
 * stays inline on the event loop or moves to the worker pool: a handoff to a worker costs about
 * 50-100 us here (bench/pki/worker-pool.bench.ts), so only algorithms far above that would gain.
 */
import { constants, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { importJwk, parseJws, verifyJws, type SignatureAlgorithm } from '../../src/acme/jws.ts';
import type { BenchFile } from '../harness.ts';

const b64 = (value: string | Buffer) => Buffer.from(value).toString('base64url');

function pair(alg: SignatureAlgorithm): { privateKey: KeyObject; publicKey: KeyObject } {
  if (alg.startsWith('RS') || alg.startsWith('PS')) return generateKeyPairSync('rsa', { modulusLength: 2048 });
  if (alg === 'ES256') return generateKeyPairSync('ec', { namedCurve: 'P-256' });
  if (alg === 'ES384') return generateKeyPairSync('ec', { namedCurve: 'P-384' });
  if (alg === 'ES512') return generateKeyPairSync('ec', { namedCurve: 'P-521' });
  return generateKeyPairSync('ed25519');
}

// A new-order sized request: protected header with kid, nonce and url; a small JSON payload.
function body(alg: SignatureAlgorithm, privateKey: KeyObject) {
  const protectedB64 = b64(
    JSON.stringify({
      alg,
      kid: 'https://ca.example.test/acme/acct/acct-0123456789abcdef',
      nonce: 'A'.repeat(43),
      url: 'https://ca.example.test/acme/new-order',
    }),
  );
  const payloadB64 = b64(JSON.stringify({ identifiers: [{ type: 'dns', value: 'www.example.test' }] }));
  const data = Buffer.from(`${protectedB64}.${payloadB64}`);
  const hash = alg === 'EdDSA' ? null : `sha${alg.slice(2)}`;
  const signature = alg.startsWith('PS')
    ? sign(hash, data, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST })
    : alg.startsWith('ES')
      ? sign(hash, data, { key: privateKey, dsaEncoding: 'ieee-p1363' })
      : sign(hash, data, privateKey);
  return { protected: protectedB64, payload: payloadB64, signature: b64(signature) };
}

const algorithms: SignatureAlgorithm[] = ['ES256', 'ES384', 'ES512', 'RS256', 'PS256', 'EdDSA'];
const inputs = algorithms.map((alg) => {
  const { privateKey, publicKey } = pair(alg);
  return { alg, body: body(alg, privateKey), key: publicKey };
});
const es256Jwk = inputs[0]!.key.export({ format: 'jwk' });
// The largest RSA key an account may have: verified on the pool when it is over 4,096 bits.
const rsa8192 = generateKeyPairSync('rsa', { modulusLength: 8192 });
const rs256With8192 = body('RS256', rsa8192.privateKey);

export default {
  title: 'ACME JWS: parse + verify one request with a cached account key, per algorithm',
  cases: () => [
    ...inputs.map(({ alg, body, key }) => ({ name: `parse + verify ${alg}`, fn: () => verifyJws(parseJws(body), key) })),
    { name: 'parse + verify RS256, RSA-8192', fn: () => verifyJws(parseJws(rs256With8192), rsa8192.publicKey) },
    { name: 'importJwk ES256 (a cache miss: JWK -> KeyObject)', fn: () => void importJwk(es256Jwk) },
  ],
} satisfies BenchFile;
