/**
 * Worker task: parse and verify a CSR, check it against the profile, sign the certificate.
 * Everything CPU-heavy of an issuance (~0.2 ms: well above piscina's ~40 us per-task cost)
 * happens here, off the event loop. Runs in a piscina worker; no I/O.
 */
import { createHash, createPrivateKey } from 'node:crypto';
import { caTemplate, issueLeaf, randomSerial, serialHex, type CaTemplate } from '../pki/certificate.ts';
import { checkCsr } from '../pki/csr-check.ts';
import type { KeyAlgorithm, ParsedCsr } from '../pki/csr.ts';
import type { ProfileRules } from '../pki/profile-rules.ts';
import { unpooled } from './unpooled.ts';

/**
 * A request that has already passed checkCsr against the same profile in this process (the
 * verifyCsr task of an ACME finalize, milliseconds earlier): its key and DER, so signing does
 * not parse and verify it again (a P-256 request: about 0.15 ms of a worker per certificate).
 */
export interface CheckedCsr {
  csrDer: Uint8Array;
  spki: Uint8Array;
  keyAlgorithm: KeyAlgorithm;
  keySize: number;
}

/** What a parsed request that passed checkCsr hands to signing, in bytes of its own (unpooled.ts). */
export function checkedCsrOf(csr: ParsedCsr): CheckedCsr {
  return { csrDer: unpooled(csr.der), spki: unpooled(csr.spki), keyAlgorithm: csr.keyAlgorithm, keySize: csr.keySize };
}

export interface IssueCertificateTask {
  ca: { id: string; keyPkcs8: Uint8Array; certificateDer: Uint8Array; crlUrl: string };
  /** The request, checked here unless `checked` says it already was. */
  csr: Uint8Array | string;
  checked?: CheckedCsr;
  commonName: string;
  names: string[];
  /** Milliseconds since the epoch. */
  notBefore: number;
  notAfter: number;
  ekus: string[];
  rules: ProfileRules | null;
}

export type IssueCertificateResult =
  | { ok: true; der: Uint8Array; serial: string; keyAlgorithm: KeyAlgorithm; keySize: number; csrDer: Uint8Array }
  | { ok: false; field: 'csr_pem' | 'profile'; reason: string };

const templates = new Map<string, CaTemplate>();

function templateFor(ca: IssueCertificateTask['ca']): CaTemplate {
  // Keyed by the CA certificate's hash too: a replaced CA is never signed for with a stale key.
  const key = `${ca.id}:${createHash('sha1').update(ca.certificateDer).digest('hex')}`;
  let template = templates.get(key);
  if (!template) {
    template = caTemplate({
      key: createPrivateKey({ key: Buffer.from(ca.keyPkcs8), format: 'der', type: 'pkcs8' }),
      certificateDer: Buffer.from(ca.certificateDer),
      crlUrl: ca.crlUrl,
    });
    templates.set(key, template);
  }
  return template;
}

export default function issueCertificate(task: IssueCertificateTask): IssueCertificateResult {
  let csr: CheckedCsr;
  if (task.checked) {
    csr = task.checked;
  } else {
    const checked = checkCsr(task.csr, task.names, task.rules);
    if (!checked.ok) return checked;
    csr = checkedCsrOf(checked.csr);
  }
  const serial = randomSerial();
  const der = issueLeaf(templateFor(task.ca), {
    serial,
    notBefore: new Date(task.notBefore),
    notAfter: new Date(task.notAfter),
    commonName: task.commonName,
    names: task.names,
    spki: Buffer.from(csr.spki.buffer, csr.spki.byteOffset, csr.spki.byteLength),
    keyAlgorithm: csr.keyAlgorithm,
    ekus: task.ekus,
  });
  return { ok: true, der: unpooled(der), serial: serialHex(serial), keyAlgorithm: csr.keyAlgorithm, keySize: csr.keySize, csrDer: csr.csrDer };
}
