/**
 * What inventory records about a certificate found in the wild (discovery), read from the
 * certificate itself with node's X509Certificate (OpenSSL). Pure, no I/O: the discovery worker
 * task runs it over a whole report, off the event loop.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { toPem } from './certificate.ts';

export interface CertificateInfo {
  /** Lowercase hex SHA-256 of the DER, no prefix. */
  fingerprint_sha256: string;
  common_name: string;
  /** DNS names of the subjectAltName. */
  sans: string[];
  /** Lowercase hex, no leading zeros. */
  serial_number: string;
  issuer_dn: string;
  subject_dn: string;
  /** Epoch milliseconds (numbers cross the worker boundary cheaply). */
  not_before: number;
  not_after: number;
  key_algorithm: 'ECDSA' | 'RSA' | 'RSA-PSS' | 'Ed25519' | 'Ed448' | 'unknown';
  key_size: number;
  is_ca: boolean;
  /** The certificate re-encoded as one PEM block (normalised whatever the source format). */
  pem: string;
}

const curveBits: Record<string, number> = { prime256v1: 256, secp384r1: 384, secp521r1: 521, secp256k1: 256 };

/** OpenSSL's multi-line DN ("CN=a\nO=Acme\, Inc.") as one RFC 4514-style line. */
const oneLineDn = (dn: string) => dn.split('\n').filter(Boolean).join(', ');

function commonName(subject: string): string {
  const line = subject.split('\n').find((l) => l.startsWith('CN='));
  return line ? line.slice(3).replace(/\\(.)/g, '$1') : '';
}

function keyOf(cert: X509Certificate): Pick<CertificateInfo, 'key_algorithm' | 'key_size'> {
  const key = cert.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'ec':
      return { key_algorithm: 'ECDSA', key_size: curveBits[details.namedCurve ?? ''] ?? 0 };
    case 'rsa':
      return { key_algorithm: 'RSA', key_size: details.modulusLength ?? 0 };
    case 'rsa-pss':
      return { key_algorithm: 'RSA-PSS', key_size: details.modulusLength ?? 0 };
    case 'ed25519':
      return { key_algorithm: 'Ed25519', key_size: 256 };
    case 'ed448':
      return { key_algorithm: 'Ed448', key_size: 456 };
    default:
      return { key_algorithm: 'unknown', key_size: 0 };
  }
}

/** Throws (with OpenSSL's reason) when `der` is not one well-formed X.509 certificate. */
export function certificateInfo(der: Buffer): CertificateInfo {
  const cert = new X509Certificate(der);
  // X509Certificate accepts trailing bytes after the certificate; inventory keys on the exact DER.
  if (!cert.raw.equals(der)) throw new Error('trailing data after the certificate');
  const sans = (cert.subjectAltName ?? '')
    .split(', ')
    .filter((n) => n.startsWith('DNS:'))
    .map((n) => n.slice(4));
  return {
    fingerprint_sha256: createHash('sha256').update(der).digest('hex'),
    common_name: commonName(cert.subject),
    sans,
    serial_number: cert.serialNumber.toLowerCase().replace(/^0+(?=.)/, ''),
    issuer_dn: oneLineDn(cert.issuer),
    subject_dn: oneLineDn(cert.subject),
    not_before: Date.parse(cert.validFrom),
    not_after: Date.parse(cert.validTo),
    ...keyOf(cert),
    is_ca: cert.ca,
    pem: toPem(der),
  };
}

/** The DER inside one PEM CERTIFICATE block; throws if there is not exactly one. */
export function pemCertificateDer(pem: string): Buffer {
  const blocks = [...pem.matchAll(/-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/g)];
  if (blocks.length !== 1) throw new Error(blocks.length === 0 ? 'no PEM CERTIFICATE block' : 'more than one certificate in one entry');
  return Buffer.from(blocks[0]![1]!.replace(/\s+/g, ''), 'base64');
}
