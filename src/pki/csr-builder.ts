/**
 * Builds PKCS#10 requests (RFC 2986) in DER for keys generated locally by the agent: the
 * private key never leaves the host, only this signed request does. node:crypto signs but has
 * no CSR API.
 */
import { sign, type KeyObject } from 'node:crypto';
import { bitString, context, oid, sequence, smallInteger, tlv } from './der.ts';
import { nameWithCommonName, signatureAlgorithmFor, subjectAltNameExtension, toPem } from './certificate.ts';
import { truncate } from '../text.ts';

/**
 * `names`: the certificate's names, requested as subjectAltName (an extensionRequest attribute,
 * RFC 2985 5.4.2). The local CA takes names from the managed certificate anyway; external CAs
 * (ACME) issue only what the request asks for.
 */
export function buildCsr(privateKey: KeyObject, publicKey: KeyObject, commonName: string, names: readonly string[] = [commonName]): string {
  const { algorithm, hash } = signatureAlgorithmFor(privateKey);
  const extensionRequest = sequence(oid('1.2.840.113549.1.9.14'), tlv(0x31, sequence(subjectAltNameExtension(names))));
  const info = sequence(
    smallInteger(0),
    nameWithCommonName(truncate(commonName, 64)),
    publicKey.export({ format: 'der', type: 'spki' }),
    context(0, extensionRequest),
  );
  return toPem(sequence(info, algorithm, bitString(sign(hash, info, privateKey))), 'CERTIFICATE REQUEST');
}
