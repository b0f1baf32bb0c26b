/**
 * Worker task: the checks of src/pki/csr-check.ts alone, for CSRs an external CA will sign
 * (issuer type acme): a bad request is a 400 at once, never an order placed with the CA.
 */
import { createHash } from 'node:crypto';
import { checkCsr } from '../pki/csr-check.ts';
import type { KeyAlgorithm } from '../pki/csr.ts';
import type { ProfileRules } from '../pki/profile-rules.ts';
import { checkedCsrOf, type CheckedCsr } from './issue-certificate.task.ts';

export interface VerifyCsrTask {
  csr: string;
  names: string[];
  rules: ProfileRules | null;
}

export type VerifyCsrResult =
  /** `requested`: the subject CN and the requested SANs, lower-cased, without repeats. */
  | {
      ok: true;
      keyAlgorithm: KeyAlgorithm;
      keySize: number;
      requested: string[];
      /** The subject CN, lower-cased, if any. */
      commonName: string | undefined;
      /** Hex SHA-256 of the request's SubjectPublicKeyInfo (ACME refuses the account key). */
      spkiSha256: string;
      /** What signing for this request needs (IssueCertificateTask.checked): it is not checked twice. */
      checked: CheckedCsr;
    }
  | { ok: false; field: 'csr_pem' | 'profile'; reason: string };

export default function verifyCsr(task: VerifyCsrTask): VerifyCsrResult {
  const checked = checkCsr(task.csr, task.names, task.rules);
  if (!checked.ok) return checked;
  const { csr } = checked;
  const requested = [...new Set([csr.subjectCommonName, ...csr.requestedNames].filter((n): n is string => !!n).map((n) => n.toLowerCase()))];
  return {
    ok: true,
    keyAlgorithm: csr.keyAlgorithm,
    keySize: csr.keySize,
    requested,
    commonName: csr.subjectCommonName?.toLowerCase(),
    spkiSha256: createHash('sha256').update(csr.spki).digest('hex'),
    checked: checkedCsrOf(csr),
  };
}
