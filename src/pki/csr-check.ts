/**
 * The checks every CSR passes before anything is signed or sent to a CA: it parses, the key is
 * one we support, its signature verifies with that key (proof of possession), and the profile
 * allows the key and the names. Pure; runs inside worker tasks.
 */
import { CsrError, parseCsr, verifyCsrSignature, type ParsedCsr } from './csr.ts';
import { checkKeyAllowed, checkKeySupported, checkNamesAllowed, type ProfileRules } from './profile-rules.ts';
import { rsaExponentProblem } from './public-key-rules.ts';

export type CsrCheck = { ok: true; csr: ParsedCsr } | { ok: false; field: 'csr_pem' | 'profile'; reason: string };

export function checkCsr(input: Uint8Array | string, names: readonly string[], rules: ProfileRules | null): CsrCheck {
  let csr;
  try {
    csr = parseCsr(typeof input === 'string' ? input : Buffer.from(input));
  } catch (err) {
    if (err instanceof CsrError) return { ok: false, field: 'csr_pem', reason: err.message };
    throw err;
  }
  // The key's rules first: they cost nothing, and they bound what the signature check costs.
  const unsupported = checkKeySupported(csr.keyAlgorithm, csr.keySize) ?? rsaExponentProblem(csr.publicKey);
  if (unsupported) return { ok: false, field: 'csr_pem', reason: unsupported };
  if (!verifyCsrSignature(csr)) return { ok: false, field: 'csr_pem', reason: 'the request signature does not verify with its public key' };
  if (rules) {
    const reason = checkKeyAllowed(rules, csr.keyAlgorithm, csr.keySize) ?? checkNamesAllowed(rules, names);
    if (reason) return { ok: false, field: 'profile', reason };
  }
  return { ok: true, csr };
}
