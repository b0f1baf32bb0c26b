/**
 * One issuance = parse CSR + verify its signature + build + sign a certificate. The direct DER
 * fast path (src/pki) against @peculiar/x509 doing the same (its CSR parse/verify and
 * X509CertificateGenerator), on the main thread, in one suite so the ratio is comparable.
 * Target (issue 4): >= 5,000 issuances/s per core and >= 20x @peculiar/x509.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import issueCertificate, { type CheckedCsr } from '../../src/workers/issue-certificate.task.ts';
import verifyCsr from '../../src/workers/verify-csr.task.ts';
import type { BenchFile } from '../harness.ts';
import { caDer, caKeys, csrs, issueInput, names, validity } from './fixtures.ts';

/** The same CSRs as an ACME finalize hands them to signing: checked by the verifyCsr task. */
const checkedCsrs: CheckedCsr[] = csrs.map((csr) => {
  const result = verifyCsr({ csr, names: [], rules: null });
  if (!result.ok) throw new Error(result.reason);
  return result.checked;
});
let next = 0;

x509.cryptoProvider.set(webcrypto as unknown as Crypto);
const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
let caCryptoKey: CryptoKey;
let caName: string;
let i = 0;

async function peculiarIssue(): Promise<void> {
  const csr = new x509.Pkcs10CertificateRequest(csrs[i++ % csrs.length]!);
  if (!(await csr.verify())) throw new Error('CSR does not verify');
  const publicKey = await csr.publicKey.export(alg, ['verify']);
  await x509.X509CertificateGenerator.create({
    serialNumber: '01' + Math.floor(Math.random() * 1e15).toString(16),
    issuer: caName,
    subject: 'CN=svc.example.com',
    notBefore: new Date(validity.notBefore),
    notAfter: new Date(validity.notAfter),
    signingAlgorithm: alg,
    publicKey,
    signingKey: caCryptoKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: names[0]! },
        { type: 'dns', value: names[1]! },
        { type: 'ip', value: names[2]! },
      ]),
    ],
  });
}

export default {
  title: 'issuance (P-256 CSR -> P-256 CA): direct DER fast path vs @peculiar/x509, main thread',
  setup: async () => {
    caCryptoKey = await webcrypto.subtle.importKey(
      'pkcs8',
      caKeys.privateKey.export({ format: 'der', type: 'pkcs8' }),
      { name: 'ECDSA', namedCurve: 'P-256' },
      false,
      ['sign'],
    );
    caName = new x509.X509Certificate(new Uint8Array(caDer)).subject;
    const result = issueCertificate(issueInput());
    if (!result.ok) throw new Error(result.reason);
  },
  cases: () => [
    { name: 'fast path: parse + verify + sign (issueCertificate task)', fn: () => void issueCertificate(issueInput()) },
    {
      name: 'sign a request verifyCsr already checked (ACME finalize)',
      fn: () => void issueCertificate({ ...issueInput(), checked: checkedCsrs[next++ % checkedCsrs.length] }),
    },
    { name: '@peculiar/x509: parse + verify + generate', defer: true, fn: (done) => void peculiarIssue().then(done) },
  ],
} satisfies BenchFile;
