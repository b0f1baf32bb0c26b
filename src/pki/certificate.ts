/**
 * X.509 v3 certificates built directly in DER (RFC 5280), signed with node:crypto.
 *
 * @peculiar/x509 builds certificates through a generic ASN.1 schema layer at ~250-700/s per
 * core (DESIGN.md); here everything that does not change per certificate (issuer name, signature
 * algorithm, authority key id, CRL distribution point) is encoded once per CA in `CaTemplate`,
 * so an issuance is a few small encodings, one SHA-1 and one signature
 * (bench/pki/issue-certificate). Tests check the output with @peculiar/x509, node's
 * X509Certificate and `openssl verify`.
 */
import { createHash, randomFillSync, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import {
  bitString,
  boolean,
  children,
  content,
  context,
  nullValue,
  octetString,
  oid,
  read,
  sequence,
  set,
  smallInteger,
  Tag,
  time,
  tlv,
  unsignedInteger,
  utf8String,
} from './der.ts';
import type { KeyAlgorithm } from './csr.ts';

export const ekuOids: Readonly<Record<string, string>> = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
};

/** The signing side of a CA, with its constant DER pieces precomputed. */
export interface CaTemplate {
  key: KeyObject;
  /** Hash for crypto.sign; null for Ed25519 CAs. */
  hash: string | null;
  /** AlgorithmIdentifier of the CA's signatures. */
  signatureAlgorithm: Buffer;
  /** The CA certificate's subject Name (DER): the issuer of everything it signs. */
  subjectName: Buffer;
  /** The CA's subject key identifier (used as authority key identifier). */
  keyIdentifier: Buffer;
  /** Extension DER: authorityKeyIdentifier. */
  authorityKeyIdExtension: Buffer;
  /** Extension DER: cRLDistributionPoints, when the CA publishes a CRL URL. */
  crlDistributionExtension: Buffer | undefined;
  notAfter: Date;
}

export function signatureAlgorithmFor(key: KeyObject): { algorithm: Buffer; hash: string | null } {
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'secp384r1') return { algorithm: sequence(oid('1.2.840.10045.4.3.3')), hash: 'sha384' };
      return { algorithm: sequence(oid('1.2.840.10045.4.3.2')), hash: 'sha256' };
    }
    case 'rsa':
      return { algorithm: sequence(oid('1.2.840.113549.1.1.11'), nullValue()), hash: 'sha256' };
    case 'ed25519':
      return { algorithm: sequence(oid('1.3.101.112')), hash: null };
    default:
      throw new Error(`unsupported CA key type ${key.asymmetricKeyType}`);
  }
}

function extension(oidValue: string, critical: boolean, value: Buffer): Buffer {
  return critical ? sequence(oid(oidValue), boolean(true), octetString(value)) : sequence(oid(oidValue), octetString(value));
}

/** RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING's bytes. */
export function keyIdentifier(spki: Buffer): Buffer {
  const top = read(spki, 0);
  const [, keyBits] = children(spki, top);
  return createHash('sha1').update(content(spki, keyBits!).subarray(1)).digest();
}

export function nameWithCommonName(cn: string): Buffer {
  return sequence(set(sequence(oid('2.5.4.3'), utf8String(cn))));
}

export function caTemplate(options: { key: KeyObject; certificateDer: Buffer; crlUrl?: string | undefined }): CaTemplate {
  const cert = options.certificateDer;
  const tbs = children(cert, read(cert, 0))[0]!;
  const fields = children(cert, tbs);
  // tbsCertificate: [0] version, serial, signature, issuer, validity, subject, spki, ...
  const offset = fields[0]!.tag === 0xa0 ? 1 : 0;
  const validity = children(cert, fields[offset + 3]!);
  const subjectNode = fields[offset + 4]!;
  const spkiNode = fields[offset + 5]!;
  const subjectName = cert.subarray(subjectNode.start, subjectNode.end);
  const keyId = keyIdentifier(cert.subarray(spkiNode.start, spkiNode.end));
  const { algorithm, hash } = signatureAlgorithmFor(options.key);
  const crlDistributionExtension = options.crlUrl
    ? extension('2.5.29.31', false, sequence(sequence(context(0, context(0, tlv(0x86, Buffer.from(options.crlUrl, 'ascii')))))))
    : undefined;
  return {
    key: options.key,
    hash,
    signatureAlgorithm: algorithm,
    subjectName,
    keyIdentifier: keyId,
    authorityKeyIdExtension: extension('2.5.29.35', false, sequence(tlv(0x80, keyId))),
    crlDistributionExtension,
    notAfter: parseTime(cert.subarray(validity[1]!.contentStart, validity[1]!.end), validity[1]!.tag),
  };
}

function parseTime(bytes: Buffer, tag: number): Date {
  const s = bytes.toString('ascii');
  const full = tag === Tag.UTC_TIME ? `${Number(s.slice(0, 2)) >= 50 ? '19' : '20'}${s}` : s;
  return new Date(`${full.slice(0, 4)}-${full.slice(4, 6)}-${full.slice(6, 8)}T${full.slice(8, 10)}:${full.slice(10, 12)}:${full.slice(12, 14)}Z`);
}

export interface LeafRequest {
  /** 16 random bytes; the top bit is cleared so the serial is positive. */
  serial: Buffer;
  notBefore: Date;
  notAfter: Date;
  commonName: string;
  /** DNS names, IP addresses and email addresses (in that order of GeneralName choice). */
  names: readonly string[];
  spki: Buffer;
  keyAlgorithm: KeyAlgorithm;
  ekus: readonly string[];
}

/**
 * Serials come from a pool refilled 4 KiB at a time: one randomBytes(16) call costs ~4.4 us,
 * a slice of the pool ~0.2 us (same CSPRNG, fewer calls).
 */
const serialPool = Buffer.alloc(4096);
let serialOffset = serialPool.length;

/** A random positive serial of 16 bytes (128 bits of which 127 random: RFC 5280 asks for <= 20). */
export function randomSerial(): Buffer {
  if (serialOffset + 16 > serialPool.length) {
    randomFillSync(serialPool);
    serialOffset = 0;
  }
  const serial = Buffer.from(serialPool.subarray(serialOffset, serialOffset + 16));
  serialPool.fill(0, serialOffset, serialOffset + 16); // never hand out the same bytes twice
  serialOffset += 16;
  serial[0]! &= 0x7f;
  if (serial[0] === 0) serial[0] = 0x01; // keep 16 significant bytes
  return serial;
}

/** Canonical serial text: lowercase hex, no leading zeros. */
export function serialHex(serial: Buffer): string {
  return serial.toString('hex').replace(/^0+(?=.)/, '');
}

const basicConstraintsLeaf = extension('2.5.29.19', true, sequence());
// digitalSignature (bit 0); RSA keys also keyEncipherment (bit 2).
const keyUsageEc = extension('2.5.29.15', true, Buffer.from([Tag.BIT_STRING, 2, 7, 0x80]));
const keyUsageRsa = extension('2.5.29.15', true, Buffer.from([Tag.BIT_STRING, 2, 5, 0xa0]));
const ekuCache = new Map<string, Buffer>();

function ekuExtension(ekus: readonly string[]): Buffer {
  const key = ekus.join(',');
  let ext = ekuCache.get(key);
  if (!ext) {
    ext = extension('2.5.29.37', false, sequence(...ekus.map((e) => oid(ekuOids[e]!))));
    ekuCache.set(key, ext);
  }
  return ext;
}

/** The subjectAltName extension for these names (non-critical). */
export function subjectAltNameExtension(names: readonly string[]): Buffer {
  return extension('2.5.29.17', false, sequence(...names.map(generalName)));
}

function generalName(name: string): Buffer {
  const ip = isIP(name);
  if (ip === 4) return tlv(0x87, Buffer.from(name.split('.').map(Number)));
  if (ip === 6) return tlv(0x87, ipv6Bytes(name));
  if (name.includes('@')) return tlv(0x81, Buffer.from(name, 'ascii'));
  return tlv(0x82, Buffer.from(name.toLowerCase(), 'ascii'));
}

/** The 16 bytes of an IPv6 address in text form (compressed or not). */
export function ipv6Bytes(address: string): Buffer {
  const [head = '', tail = ''] = address.split('::');
  const h = head ? head.split(':') : [];
  const t = address.includes('::') ? (tail ? tail.split(':') : []) : [];
  const groups = address.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** RFC 5280 ub-common-name: a longer name goes only into subjectAltName. */
const maxCommonName = 64;

/** DER of the signed certificate. */
export function issueLeaf(ca: CaTemplate, req: LeafRequest): Buffer {
  const cnFits = req.commonName.length <= maxCommonName;
  const subject = cnFits ? nameWithCommonName(req.commonName) : sequence();
  const extensions = [
    basicConstraintsLeaf,
    req.keyAlgorithm === 'RSA' ? keyUsageRsa : keyUsageEc,
    ekuExtension(req.ekus),
    extension('2.5.29.14', false, octetString(keyIdentifier(req.spki))),
    ca.authorityKeyIdExtension,
    // With an empty subject the SAN extension must be critical (RFC 5280 4.2.1.6).
    extension('2.5.29.17', !cnFits, sequence(...req.names.map(generalName))),
  ];
  if (ca.crlDistributionExtension) extensions.push(ca.crlDistributionExtension);
  const tbs = sequence(
    context(0, smallInteger(2)),
    unsignedInteger(req.serial),
    ca.signatureAlgorithm,
    ca.subjectName,
    sequence(time(req.notBefore), time(req.notAfter)),
    subject,
    req.spki,
    context(3, sequence(...extensions)),
  );
  return sequence(tbs, ca.signatureAlgorithm, bitString(sign(ca.hash, tbs, ca.key)));
}

/** A self-signed CA certificate (root), or one signed by `parent` (sub-CA). */
export function issueCaCertificate(options: { key: KeyObject; spki: Buffer; commonName: string; notBefore: Date; notAfter: Date; serial: Buffer }): Buffer {
  const { algorithm, hash } = signatureAlgorithmFor(options.key);
  const name = nameWithCommonName(options.commonName);
  const keyId = keyIdentifier(options.spki);
  const tbs = sequence(
    context(0, smallInteger(2)),
    unsignedInteger(options.serial),
    algorithm,
    name,
    sequence(time(options.notBefore), time(options.notAfter)),
    name,
    options.spki,
    context(
      3,
      sequence(
        extension('2.5.29.19', true, sequence(boolean(true))),
        // keyCertSign (bit 5) + cRLSign (bit 6): 0x06, 1 unused bit
        extension('2.5.29.15', true, Buffer.from([Tag.BIT_STRING, 2, 1, 0x06])),
        extension('2.5.29.14', false, octetString(keyId)),
        extension('2.5.29.35', false, sequence(tlv(0x80, keyId))),
      ),
    ),
  );
  return sequence(tbs, algorithm, bitString(sign(hash, tbs, options.key)));
}

export function toPem(der: Buffer, label = 'CERTIFICATE'): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN ${label}-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END ${label}-----\n`;
}
