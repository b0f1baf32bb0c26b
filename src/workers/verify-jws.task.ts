/**
 * Worker task: verify one ACME JWS signature (src/acme/jws.ts) off the event loop. Only the
 * algorithms whose verification costs far more than a handoff come here (P-384 and P-521:
 * 0.6 and 1.3 ms here, against 66 us for P-256; bench/acme/jws-verify.bench.ts).
 */
import { importJwk, verifyJws, type Jwk, type ParsedJws } from '../acme/jws.ts';
import { isAcmeProblem } from '../acme/problems.ts';

export interface VerifyJwsTask {
  header: ParsedJws['header'];
  signingInput: string;
  signature: Uint8Array;
  jwk: Jwk;
}

/** `problem`: what verification found wrong, in ACME terms (the caller rethrows it). */
export type VerifyJwsResult = { ok: true } | { ok: false; type: 'malformed' | 'badSignatureAlgorithm' | 'badPublicKey'; detail: string };

export default function verifyJwsTask(task: VerifyJwsTask): VerifyJwsResult {
  try {
    verifyJws({ header: task.header, signingInput: task.signingInput, signature: Buffer.from(task.signature), payload: '' }, importJwk(task.jwk));
    return { ok: true };
  } catch (err) {
    if (isAcmeProblem(err) && (err.type === 'malformed' || err.type === 'badSignatureAlgorithm' || err.type === 'badPublicKey')) {
      return { ok: false, type: err.type, detail: err.message };
    }
    throw err;
  }
}
