/** Shared inputs for the PKI benchmarks: a P-256 CA and a pool of P-256 CSRs from openssl. */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { caTemplate, issueCaCertificate, randomSerial } from '../../src/pki/certificate.ts';

export const caKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const now = Date.now();
export const caDer = issueCaCertificate({
  key: caKeys.privateKey,
  spki: caKeys.publicKey.export({ format: 'der', type: 'spki' }),
  commonName: 'certfleet Bench CA',
  notBefore: new Date(now - 60_000),
  notAfter: new Date(now + 3650 * 86_400_000),
  serial: randomSerial(),
});
export const ca = caTemplate({ key: caKeys.privateKey, certificateDer: caDer, crlUrl: 'http://127.0.0.1:8080/.well-known/pki/crl/iss-bench' });
export const caPkcs8 = caKeys.privateKey.export({ format: 'der', type: 'pkcs8' });

/** 16 distinct CSRs, so no case benefits from caching one key. */
export const csrs: string[] = Array.from({ length: 16 }, (_, i) =>
  execFileSync(
    'openssl',
    ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=svc-${i}.example.com`, '-keyout', '/dev/null'],
    {
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'ignore'],
    },
  ),
);

export const names = ['svc.example.com', 'www.svc.example.com', '10.0.0.7'];
export const validity = { notBefore: now - 60_000, notAfter: now + 90 * 86_400_000 };

let next = 0;

/** An issueCertificate task input, cycling through the CSRs. */
export function issueInput() {
  return {
    ca: { id: 'iss-bench', keyPkcs8: caPkcs8, certificateDer: caDer, crlUrl: 'http://127.0.0.1:8080/.well-known/pki/crl/iss-bench' },
    csr: csrs[next++ % csrs.length]!,
    commonName: 'svc.example.com',
    names,
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
    ekus: ['serverAuth'],
    rules: null,
  };
}
