/**
 * The DER fast path against three oracles: many CSRs made by the real openssl (P-256, P-384,
 * RSA 2048/3072, Ed25519, random names), each leaf parsed by @peculiar/x509 and node's
 * X509Certificate with every field compared, and all of them checked by `openssl verify`.
 */
import { execFileSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import 'reflect-metadata'; // @peculiar/x509 (tsyringe) needs it loaded first
import * as x509 from '@peculiar/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caTemplate, ekuOids, issueCaCertificate, issueLeaf, keyIdentifier, randomSerial, serialHex, toPem, type CaTemplate } from './certificate.ts';
import { CsrError, parseCsr, verifyCsrSignature } from './csr.ts';

let dir: string;
let caKey: KeyObject;
let caDer: Buffer;
let ca: CaTemplate;
const crlUrl = 'http://127.0.0.1:8080/.well-known/pki/crl/iss-test';

function openssl(args: string[], input?: string): string {
  return execFileSync('openssl', args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

function makeCsr(keyArgs: string[], cn: string, sans: string[]): string {
  return openssl(['req', '-new', ...keyArgs, '-nodes', '-subj', `/CN=${cn}`, '-addext', `subjectAltName=${sans.join(',')}`, '-keyout', '/dev/null']);
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-pki-'));
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  caKey = pair.privateKey;
  const now = Date.now();
  caDer = issueCaCertificate({
    key: caKey,
    spki: pair.publicKey.export({ format: 'der', type: 'spki' }),
    commonName: 'certfleet Test CA',
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 3650 * 86_400_000),
    serial: randomSerial(),
  });
  fs.writeFileSync(path.join(dir, 'ca.pem'), toPem(caDer));
  ca = caTemplate({ key: caKey, certificateDer: caDer, crlUrl });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const keyKinds: Array<[string, string[], string, number]> = [
  ['P-256', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], 'ECDSA', 256],
  ['P-384', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'], 'ECDSA', 384],
  ['RSA-2048', ['-newkey', 'rsa:2048'], 'RSA', 2048],
  ['RSA-3072', ['-newkey', 'rsa:3072'], 'RSA', 3072],
  ['Ed25519', ['-newkey', 'ed25519'], 'Ed25519', 256],
];

describe('CA certificate', () => {
  it('is a valid self-signed CA for openssl', () => {
    const text = openssl(['x509', '-in', path.join(dir, 'ca.pem'), '-noout', '-text']);
    expect(text).toMatch(/CA:TRUE/);
    expect(text).toMatch(/Certificate Sign, CRL Sign/);
    expect(openssl(['verify', '-CAfile', path.join(dir, 'ca.pem'), path.join(dir, 'ca.pem')])).toMatch(/OK/);
  });
});

describe('issued certificates match the oracles', () => {
  const issued: string[] = [];

  it.each(
    Array.from({ length: 24 }, (_, i) => {
      const kind = keyKinds[i < 14 ? 0 : i < 17 ? 1 : i < 20 ? 2 : i < 21 ? 3 : 4]!;
      return [i, kind] as const;
    }),
  )('case %i (%s)', async (i, [, keyArgs, algorithm, size]) => {
    const host = `svc-${i}-${Math.random().toString(36).slice(2, 8)}.example.test`;
    const names = [
      host,
      `alt-${i}.example.test`,
      `10.0.${i}.1`,
      ...(i % 3 === 0 ? ['2001:db8::' + (i + 1)] : []),
      ...(i % 4 === 0 ? [`ops${i}@example.test`] : []),
    ];
    const csr = parseCsr(makeCsr(keyArgs, host, [`DNS:${host}`]));
    expect(csr.keyAlgorithm).toBe(algorithm);
    expect(csr.keySize).toBe(size);
    expect(csr.subjectCommonName).toBe(host);
    expect(csr.requestedNames).toEqual([host]);
    expect(verifyCsrSignature(csr)).toBe(true);

    const serial = randomSerial();
    const notBefore = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
    const notAfter = new Date(notBefore.getTime() + (30 + i) * 86_400_000);
    const ekus = i % 2 ? ['serverAuth'] : ['serverAuth', 'clientAuth'];
    const der = issueLeaf(ca, { serial, notBefore, notAfter, commonName: host, names, spki: csr.spki, keyAlgorithm: csr.keyAlgorithm, ekus });
    issued.push(toPem(der));

    // Oracle 1: node's X509Certificate.
    const node = new X509Certificate(der);
    expect(node.verify(createPublicKey(caKey))).toBe(true);
    expect(node.checkIssued(new X509Certificate(caDer))).toBe(true);
    expect(node.serialNumber.toLowerCase()).toBe(serialHex(serial).padStart(node.serialNumber.length, '0'));
    expect(new Date(node.validFrom).getTime()).toBe(notBefore.getTime());
    expect(new Date(node.validTo).getTime()).toBe(notAfter.getTime());
    expect(node.subject).toBe(`CN=${host}`);
    expect(node.ca).toBe(false);
    expect(node.publicKey.export({ format: 'der', type: 'spki' }).equals(csr.spki)).toBe(true);

    // Oracle 2: @peculiar/x509's full parse of every extension.
    const cert = new x509.X509Certificate(new Uint8Array(der));
    expect(cert.issuer).toBe('CN=certfleet Test CA');
    expect(cert.serialNumber.toLowerCase().replace(/^0+/, '')).toBe(serialHex(serial));
    const basic = cert.getExtension(x509.BasicConstraintsExtension)!;
    expect(basic.ca).toBe(false);
    expect(basic.critical).toBe(true);
    const usage = cert.getExtension(x509.KeyUsagesExtension)!;
    expect(usage.critical).toBe(true);
    expect(usage.usages & x509.KeyUsageFlags.digitalSignature).toBeTruthy();
    expect(Boolean(usage.usages & x509.KeyUsageFlags.keyEncipherment)).toBe(algorithm === 'RSA');
    expect(cert.getExtension(x509.ExtendedKeyUsageExtension)!.usages).toEqual(ekus.map((e) => ekuOids[e]));
    expect(cert.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId).toBe(keyIdentifier(csr.spki).toString('hex'));
    expect(cert.getExtension(x509.AuthorityKeyIdentifierExtension)!.keyId).toBe(ca.keyIdentifier.toString('hex'));
    const san = cert.getExtension(x509.SubjectAlternativeNameExtension)!.names.toJSON();
    expect(san.map((n) => n.value.toLowerCase())).toEqual(names.map((n) => n.toLowerCase()));
    expect(san.map((n) => n.type)).toEqual(names.map((n) => (n.includes('@') ? 'email' : /^[\d.]+$|:/.test(n) ? 'ip' : 'dns')));
    const crl = cert.getExtension('2.5.29.31');
    expect(crl).toBeTruthy();
    expect(Buffer.from(crl!.value).toString('latin1')).toContain(crlUrl);
    expect(await cert.verify({ publicKey: await new x509.X509Certificate(new Uint8Array(caDer)).publicKey.export(), signatureOnly: true })).toBe(true);
  });

  it('all pass openssl verify against the CA', () => {
    expect(issued.length).toBe(24);
    const files = issued.map((pem, i) => {
      const file = path.join(dir, `leaf-${i}.pem`);
      fs.writeFileSync(file, pem);
      return file;
    });
    const out = openssl(['verify', '-CAfile', path.join(dir, 'ca.pem'), ...files]);
    expect(
      out
        .trim()
        .split('\n')
        .filter((l) => l.endsWith(': OK')),
    ).toHaveLength(24);
  });

  it('moves a common name longer than 64 characters into a critical SAN only', () => {
    const long = `${'a'.repeat(60)}.example.test`;
    const csr = parseCsr(makeCsr(keyKinds[0]![1], 'short', ['DNS:short']));
    const der = issueLeaf(ca, {
      serial: randomSerial(),
      notBefore: new Date(),
      notAfter: new Date(Date.now() + 86_400_000),
      commonName: long,
      names: [long],
      spki: csr.spki,
      keyAlgorithm: 'ECDSA',
      ekus: ['serverAuth'],
    });
    const cert = new x509.X509Certificate(new Uint8Array(der));
    expect(cert.subject).toBe('');
    expect(cert.getExtension(x509.SubjectAlternativeNameExtension)!.critical).toBe(true);
  });
});

describe('CSR parsing and verification', () => {
  it('rejects a request whose signature does not match its key', () => {
    const csr = parseCsr(makeCsr(keyKinds[0]![1], 'x.example.test', ['DNS:x.example.test']));
    const tampered = Buffer.from(csr.der);
    // Flip a byte inside the signed info (the CN), keeping the DER valid.
    const at = tampered.indexOf(Buffer.from('x.example.test'));
    tampered[at] = 'y'.charCodeAt(0);
    const parsed = parseCsr(tampered);
    expect(parsed.subjectCommonName).toBe('y.example.test');
    expect(verifyCsrSignature(parsed)).toBe(false);
  });

  it('accepts DER as well as PEM', () => {
    const pem = makeCsr(keyKinds[0]![1], 'der.example.test', ['DNS:der.example.test']);
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    expect(parseCsr(der).subjectCommonName).toBe('der.example.test');
  });

  it.each([
    ['garbage', 'hello'],
    ['truncated', '-----BEGIN CERTIFICATE REQUEST-----\nMIIBAD==\n-----END CERTIFICATE REQUEST-----'],
    ['a certificate', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----'],
  ])('rejects %s with a CsrError', (_name, input) => {
    expect(() => parseCsr(input)).toThrow(CsrError);
  });

  it('rejects SHA-1 signatures', () => {
    const pem = openssl(['req', '-new', '-newkey', 'rsa:2048', '-sha1', '-nodes', '-subj', '/CN=old.example.test', '-keyout', '/dev/null']);
    expect(() => parseCsr(pem)).toThrow(/unsupported signature algorithm/);
  });
});
