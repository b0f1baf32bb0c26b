/**
 * The checks every CSR passes before anything is signed or sent to a CA: it parses, its
 * signature verifies with its own key (proof of possession), the key is one we support, and the
 * profile allows the key and the names. Pure; runs inside worker tasks.
 */
import { CsrError, parseCsr, verifyCsrSignature, type ParsedCsr } from './csr.ts';
import { checkKeyAllowed, checkKeySupported, checkNamesAllowed, type ProfileRules } from './profile-rules.ts';

export type CsrCheck = { ok: true; csr: ParsedCsr } | { ok: false; field: 'csr_pem' | 'profile'; reason: string };

export function checkCsr(input: Uint8Array | string, names: readonly string[], rules: ProfileRules | null): CsrCheck {
  let csr;
  try {
    csr = parseCsr(typeof input === 'string' ? input : Buffer.from(input));
  } catch (err) {
    if (err instanceof CsrError) return { ok: false, field: 'csr_pem', reason: err.message };
    throw err;
  }
  if (!verifyCsrSignature(csr)) return { ok: false, field: 'csr_pem', reason: 'the request signature does not verify with its public key' };
  const unsupported = checkKeySupported(csr.keyAlgorithm, csr.keySize);
  if (unsupported) return { ok: false, field: 'csr_pem', reason: unsupported };
  if (rules) {
    const reason = checkKeyAllowed(rules, csr.keyAlgorithm, csr.keySize) ?? checkNamesAllowed(rules, names);
    if (reason) return { ok: false, field: 'profile', reason };
  }
  return { ok: true, csr };
}
