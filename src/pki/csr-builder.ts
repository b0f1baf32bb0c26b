/**
 * Builds PKCS#10 requests (RFC 2986) in DER for keys generated locally by the agent: the
 * private key never leaves the host, only this signed request does. node:crypto signs but has
 * no CSR API.
 */
import { sign, type KeyObject } from 'node:crypto';
import { bitString, context, sequence, smallInteger } from './der.ts';
import { nameWithCommonName, signatureAlgorithmFor, toPem } from './certificate.ts';

export function buildCsr(privateKey: KeyObject, publicKey: KeyObject, commonName: string): string {
  const { algorithm, hash } = signatureAlgorithmFor(privateKey);
  const info = sequence(
    smallInteger(0),
    nameWithCommonName(commonName.length <= 64 ? commonName : commonName.slice(0, 64)),
    publicKey.export({ format: 'der', type: 'spki' }),
    context(0, Buffer.alloc(0)), // no attributes: names come from the managed certificate
  );
  return toPem(sequence(info, algorithm, bitString(sign(hash, info, privateKey))), 'CERTIFICATE REQUEST');
}
