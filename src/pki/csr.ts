/**
 * PKCS#10 certificate requests (RFC 2986): parse PEM or DER, identify the key, read the
 * requested names, verify the self-signature. node:crypto verifies and signs fast but cannot
 * parse CSRs; this walks the DER directly (@peculiar/x509 is the oracle in tests).
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { isStorableText } from '../text.ts';
import { children, content, decodeOid, DerError, expect, raw, read, Tag, type Node } from './der.ts';

export class CsrError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CsrError';
  }
}

export type KeyAlgorithm = 'ECDSA' | 'RSA' | 'Ed25519';

export interface ParsedCsr {
  der: Buffer;
  /** DER of certificationRequestInfo: the signed bytes. */
  info: Buffer;
  /** DER of SubjectPublicKeyInfo, copied verbatim into the certificate. */
  spki: Buffer;
  publicKey: KeyObject;
  keyAlgorithm: KeyAlgorithm;
  /** Curve bits for ECDSA, modulus bits for RSA, 256 for Ed25519. */
  keySize: number;
  /** Hash of the signature algorithm; null for Ed25519. */
  signatureHash: string | null;
  signature: Buffer;
  subjectCommonName: string | undefined;
  /** Names from the subjectAltName extension request: DNS names, IP addresses, emails. */
  requestedNames: string[];
}

const signatureAlgorithms: Record<string, string | null> = {
  '1.2.840.10045.4.3.2': 'sha256', // ecdsa-with-SHA256
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.2.840.113549.1.1.11': 'sha256', // sha256WithRSAEncryption
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.3.101.112': null, // Ed25519
};

const curveBits: Record<string, number> = { prime256v1: 256, secp384r1: 384, secp521r1: 521 };
const OID_CN = '2.5.4.3';
const OID_EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
const OID_SAN = '2.5.29.17';

/** PEM ("CERTIFICATE REQUEST" or "NEW CERTIFICATE REQUEST") or raw DER to DER bytes. */
export function csrToDer(input: string | Buffer): Buffer {
  if (Buffer.isBuffer(input) && input[0] === Tag.SEQUENCE) return input;
  const text = Buffer.isBuffer(input) ? input.toString('latin1') : input;
  const match = /-----BEGIN (?:NEW )?CERTIFICATE REQUEST-----([A-Za-z0-9+/=\s]+)-----END (?:NEW )?CERTIFICATE REQUEST-----/.exec(text);
  if (!match) throw new CsrError('not a PEM certificate request (expected -----BEGIN CERTIFICATE REQUEST-----)');
  return Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64');
}

/**
 * Parses a CSR or throws CsrError saying what is wrong: never anything else, whatever the bytes
 * (a crafted request is the client's 400, not a 500). Structure errors are checked where they
 * occur; anything that still escapes (a bounds error in a path no check foresaw) is reported as
 * malformed too. src/pki/csr.fuzz.test.ts mutates valid requests to keep it so.
 */
export function parseCsr(input: string | Buffer): ParsedCsr {
  const der = csrToDer(input);
  try {
    return parseDer(der);
  } catch (err) {
    if (err instanceof CsrError) throw err;
    if (err instanceof DerError) throw new CsrError(`malformed certificate request: ${err.message}`);
    throw new CsrError(`malformed certificate request: it cannot be parsed (${(err as Error).name})`);
  }
}

function parseDer(der: Buffer): ParsedCsr {
  const top = expect(read(der, 0), Tag.SEQUENCE, 'CertificationRequest');
  if (top.end !== der.length) throw new DerError('trailing bytes after the request');
  const [infoNode, algNode, sigNode] = children(der, top);
  const info = expect(infoNode, Tag.SEQUENCE, 'certificationRequestInfo');
  const [versionNode, subjectNode, spkiNode, attributesNode] = children(der, info);
  expect(versionNode, Tag.INTEGER, 'version');
  const subject = expect(subjectNode, Tag.SEQUENCE, 'subject');
  const spki = expect(spkiNode, Tag.SEQUENCE, 'subjectPKInfo');

  const algOid = decodeOid(content(der, expect(children(der, expect(algNode, Tag.SEQUENCE, 'signatureAlgorithm'))[0], Tag.OID, 'algorithm')));
  if (!(algOid in signatureAlgorithms)) throw new CsrError(`unsupported signature algorithm ${algOid} (use ECDSA or RSA with SHA-256/384/512, or Ed25519)`);
  const sigBits = content(der, expect(sigNode, Tag.BIT_STRING, 'signature'));
  if (sigBits[0] !== 0) throw new DerError('signature BIT STRING has unused bits');

  let publicKey: KeyObject;
  const spkiDer = raw(der, spki);
  try {
    publicKey = importSpki(der, spki, spkiDer);
  } catch {
    throw new CsrError('the public key in the request cannot be read');
  }
  const { keyAlgorithm, keySize } = describeKey(publicKey);

  return {
    der,
    info: raw(der, info),
    spki: spkiDer,
    publicKey,
    keyAlgorithm,
    keySize,
    signatureHash: signatureAlgorithms[algOid]!,
    signature: sigBits.subarray(1),
    subjectCommonName: commonName(der, subject),
    requestedNames: attributesNode ? requestedNames(der, attributesNode) : [],
  };
}

const curveOids: Record<string, { crv: string; pointLength: number }> = {
  '1.2.840.10045.3.1.7': { crv: 'P-256', pointLength: 65 },
  '1.3.132.0.34': { crv: 'P-384', pointLength: 97 },
};

/**
 * Public key import. OpenSSL 3 decodes a DER SubjectPublicKeyInfo through its generic decoder
 * in ~120 us, more than an ECDSA verify; the same key as a JWK (built from the fields this
 * parser has already located) imports in ~56 us (tmp measurements in docs/operator/scale.md).
 * Anything unusual (compressed points, other curves) takes the DER path.
 */
function importSpki(der: Buffer, spki: Node, spkiDer: Buffer): KeyObject {
  const [algorithm, keyBits] = children(der, spki);
  const [algOid, params] = children(der, expect(algorithm, Tag.SEQUENCE, 'algorithm'));
  const bits = content(der, expect(keyBits, Tag.BIT_STRING, 'subjectPublicKey')).subarray(1);
  const oidText = decodeOid(content(der, expect(algOid, Tag.OID, 'algorithm')));
  if (oidText === '1.2.840.10045.2.1' && params?.tag === Tag.OID) {
    const curve = curveOids[decodeOid(content(der, params))];
    if (curve && bits.length === curve.pointLength && bits[0] === 0x04) {
      const half = (bits.length - 1) / 2;
      return createPublicKey({
        key: { kty: 'EC', crv: curve.crv, x: bits.subarray(1, 1 + half).toString('base64url'), y: bits.subarray(1 + half).toString('base64url') },
        format: 'jwk',
      });
    }
  } else if (oidText === '1.2.840.113549.1.1.1') {
    const rsa = read(bits, 0);
    const [n, e] = children(bits, expect(rsa, Tag.SEQUENCE, 'RSAPublicKey'));
    const unsigned = (b: Buffer) => (b[0] === 0 ? b.subarray(1) : b);
    return createPublicKey({
      key: {
        kty: 'RSA',
        n: unsigned(content(bits, expect(n, Tag.INTEGER, 'modulus'))).toString('base64url'),
        e: unsigned(content(bits, expect(e, Tag.INTEGER, 'exponent'))).toString('base64url'),
      },
      format: 'jwk',
    });
  } else if (oidText === '1.3.101.112' && bits.length === 32) {
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: bits.toString('base64url') }, format: 'jwk' });
  }
  return createPublicKey({ key: spkiDer, format: 'der', type: 'spki' });
}

export function describeKey(key: KeyObject): { keyAlgorithm: KeyAlgorithm; keySize: number } {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const bits = curveBits[details.namedCurve ?? ''];
      if (!bits) throw new CsrError(`unsupported EC curve ${details.namedCurve ?? '?'} (use P-256, P-384 or P-521)`);
      return { keyAlgorithm: 'ECDSA', keySize: bits };
    }
    case 'rsa':
      return { keyAlgorithm: 'RSA', keySize: details.modulusLength ?? 0 };
    case 'ed25519':
      return { keyAlgorithm: 'Ed25519', keySize: 256 };
    default:
      throw new CsrError(`unsupported key type ${key.asymmetricKeyType ?? '?'}`);
  }
}

/** Proof of possession: the request is signed by the private key of the key it carries. */
export function verifyCsrSignature(csr: ParsedCsr): boolean {
  if ((csr.keyAlgorithm === 'Ed25519') !== (csr.signatureHash === null)) return false;
  try {
    return verify(csr.signatureHash, csr.info, csr.publicKey, csr.signature);
  } catch {
    return false;
  }
}

/** DirectoryString choices a CN may use (RFC 5280 4.1.2.4); BMPString and UniversalString are refused. */
const textTags = new Set<number>([Tag.UTF8_STRING, Tag.PRINTABLE_STRING, Tag.IA5_STRING, 0x14 /* TeletexString */]);

function commonName(der: Buffer, subject: Node): string | undefined {
  for (const rdn of children(der, expect(subject, Tag.SEQUENCE, 'subject'))) {
    for (const atv of children(der, expect(rdn, Tag.SET, 'subject RDN'))) {
      const [type, value] = children(der, expect(atv, Tag.SEQUENCE, 'subject attribute'));
      if (decodeOid(content(der, expect(type, Tag.OID, 'subject attribute type'))) !== OID_CN) continue;
      if (!value || !textTags.has(value.tag)) throw new CsrError('the subject common name is not a UTF8String, PrintableString or IA5String');
      const bytes = content(der, value);
      const text = bytes.toString('utf8');
      if (!Buffer.from(text, 'utf8').equals(bytes) || !isStorableText(text)) throw new CsrError('the subject common name is not valid UTF-8 text');
      return text;
    }
  }
  return undefined;
}

/** `[0] IMPLICIT SET OF Attribute`; the extensionRequest's subjectAltName names, if any. */
function requestedNames(der: Buffer, attributes: Node): string[] {
  if (attributes.tag !== 0xa0) throw new CsrError('the request attributes are not [0] IMPLICIT');
  const names: string[] = [];
  for (const attribute of children(der, attributes)) {
    const [type, values] = children(der, expect(attribute, Tag.SEQUENCE, 'attribute'));
    if (decodeOid(content(der, expect(type, Tag.OID, 'attribute type'))) !== OID_EXTENSION_REQUEST) continue;
    for (const extensions of children(der, expect(values, Tag.SET, 'extensionRequest values'))) {
      for (const extension of children(der, expect(extensions, Tag.SEQUENCE, 'Extensions'))) {
        // Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
        const parts = children(der, expect(extension, Tag.SEQUENCE, 'Extension'));
        if (parts.length < 2 || parts.length > 3) throw new CsrError('a requested extension is not { extnID, [critical,] extnValue }');
        if (decodeOid(content(der, expect(parts[0], Tag.OID, 'extnID'))) !== OID_SAN) continue;
        const sanDer = content(der, expect(parts[parts.length - 1], Tag.OCTET_STRING, 'extnValue'));
        const sequence = expect(read(sanDer, 0), Tag.SEQUENCE, 'subjectAltName');
        if (sequence.end !== sanDer.length) throw new CsrError('trailing bytes after the subjectAltName');
        for (const name of children(sanDer, sequence)) {
          const text = generalName(name.tag, content(sanDer, name));
          if (text !== undefined) names.push(text);
        }
      }
    }
  }
  return names;
}

/**
 * dNSName, rfc822Name (IA5String) and iPAddress (4 or 16 bytes) as text; other name forms (URI,
 * otherName ...) are not requested names certfleet issues for, and are skipped.
 */
function generalName(tag: number, bytes: Buffer): string | undefined {
  if (tag === 0x82 || tag === 0x81) {
    for (const byte of bytes) if (byte === 0 || byte > 0x7e) throw new CsrError('a subjectAltName is not printable ASCII (IA5String)');
    return bytes.toString('ascii');
  }
  if (tag === 0x87) {
    if (bytes.length === 4) return [...bytes].join('.');
    if (bytes.length !== 16) throw new CsrError(`an iPAddress subjectAltName has ${bytes.length} bytes (4 for IPv4, 16 for IPv6)`);
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
    return groups.join(':'); // uncompressed but valid IPv6 text
  }
  return undefined;
}
