import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { issueCaCertificate, randomSerial } from '../pki/certificate.ts';
import { buildCsr } from '../pki/csr-builder.ts';
import issueCertificate, { type IssueCertificateTask } from './issue-certificate.task.ts';
import verifyCsr from './verify-csr.task.ts';

const caKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const now = Date.now();
const caDer = issueCaCertificate({
  key: caKeys.privateKey,
  spki: caKeys.publicKey.export({ format: 'der', type: 'spki' }),
  commonName: 'certfleet Test CA',
  notBefore: new Date(now - 60_000),
  notAfter: new Date(now + 365 * 86_400_000),
  serial: randomSerial(),
});

function task(csr: string, extra: Partial<IssueCertificateTask> = {}): IssueCertificateTask {
  return {
    ca: { id: 'iss-test', keyPkcs8: caKeys.privateKey.export({ format: 'der', type: 'pkcs8' }), certificateDer: caDer, crlUrl: 'http://127.0.0.1/crl' },
    csr,
    commonName: 'svc.example.test',
    names: ['svc.example.test'],
    notBefore: now - 60_000,
    notAfter: now + 86_400_000,
    ekus: ['serverAuth'],
    rules: null,
    ...extra,
  };
}

describe('issueCertificate with a request already checked by verifyCsr', () => {
  it("signs the checked request's key and returns its DER, as the unchecked path does", () => {
    const leafKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const csr = buildCsr(leafKeys.privateKey, leafKeys.publicKey, 'svc.example.test');
    const verified = verifyCsr({ csr, names: ['svc.example.test'], rules: null });
    if (!verified.ok) throw new Error(verified.reason);
    // As the worker pool hands it over: a structured clone.
    const checked = structuredClone(verified.checked);
    const viaChecked = issueCertificate(task(csr, { checked }));
    const unchecked = issueCertificate(task(csr));
    if (!viaChecked.ok || !unchecked.ok) throw new Error('not signed');
    const leaf = new X509Certificate(Buffer.from(viaChecked.der));
    expect(leaf.publicKey.export({ format: 'der', type: 'spki' }).equals(leafKeys.publicKey.export({ format: 'der', type: 'spki' }))).toBe(true);
    expect(leaf.verify(new X509Certificate(caDer).publicKey)).toBe(true);
    expect(Buffer.from(viaChecked.csrDer).equals(Buffer.from(unchecked.csrDer))).toBe(true);
    expect([viaChecked.keyAlgorithm, viaChecked.keySize]).toEqual([unchecked.keyAlgorithm, unchecked.keySize]);
  });
});
