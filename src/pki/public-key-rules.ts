/**
 * Rules for public keys certfleet accepts from outside, whatever they are for: an ACME account
 * key (JWK), the key in a CSR.
 *
 * The RSA public exponent must be 65537. Verifying an RSA signature costs time in proportion to
 * the exponent's length, and OpenSSL bounds that length only for moduli over 3,072 bits: a
 * 3,072-bit key with a 3,072-bit exponent makes one verification cost 5.6 ms instead of 0.09 ms
 * (this machine), and an ACME newAccount is verified before anyone is known. Let's Encrypt
 * (Boulder's goodkey) accepts 65537 only; every common client library generates it.
 */
import type { KeyObject } from 'node:crypto';

const rsaPublicExponent = 65537n;

/** Why `key` is refused, or undefined. Only RSA keys have a rule here. */
export function rsaExponentProblem(key: KeyObject): string | undefined {
  if (key.asymmetricKeyType !== 'rsa') return undefined;
  const exponent = key.asymmetricKeyDetails?.publicExponent;
  if (exponent === rsaPublicExponent) return undefined;
  const shown = exponent === undefined ? 'none' : exponent < 1n << 64n ? exponent.toString() : `a ${exponent.toString(2).length}-bit number`;
  return `RSA keys must use the public exponent 65537 (this one has ${shown})`;
}
