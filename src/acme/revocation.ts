/**
 * revokeCert (RFC 8555 7.6), signed either by the account that ordered the certificate (kid) or
 * by the certificate's own key (jwk, e.g. `certbot revoke --key-path`): the request is verified
 * once and its nonce spent once, whichever it is. Revocation runs through the inventory's
 * revocation path (status, the CRL, the audit trail), as a REST revoke does.
 */
import { createHash, X509Certificate } from 'node:crypto';
import type { AcmeOrderRepository } from '../db/acme-orders.ts';
import { isAppError } from '../errors.ts';
import { revocationReasons, type RevocationReason } from '../pki/crl.ts';
import type { RevocationService } from '../services/pki/revocation.ts';
import { spkiSha256 } from './jws.ts';
import { acmePrincipal } from './orders.ts';
import { AcmeProblem, AcmeProblems } from './problems.ts';
import type { VerifiedRequest } from './requests.ts';

/** The reasons a subscriber may give (as Boulder: not caCompromise, certificateHold, removeFromCRL, aACompromise). */
const subscriberReasons = new Map<number, RevocationReason>(
  (['unspecified', 'keyCompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'privilegeWithdrawn'] as const).map((name) => [
    revocationReasons[name],
    name,
  ]),
);

export class AcmeRevocation {
  readonly #repo: Pick<AcmeOrderRepository, 'issuedVersionBySerial'>;
  readonly #revocation: Pick<RevocationService, 'revoke'>;

  constructor(options: { repo: Pick<AcmeOrderRepository, 'issuedVersionBySerial'>; revocation: Pick<RevocationService, 'revoke'> }) {
    this.#repo = options.repo;
    this.#revocation = options.revocation;
  }

  async revoke(request: VerifiedRequest, payload: Record<string, unknown> | undefined): Promise<void> {
    const der =
      typeof payload?.certificate === 'string' && /^[A-Za-z0-9_-]+$/.test(payload.certificate) ? Buffer.from(payload.certificate, 'base64url') : undefined;
    if (!der || der.length === 0) throw AcmeProblems.malformed('certificate must be the base64url DER of the certificate to revoke');
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(der);
    } catch {
      throw AcmeProblems.malformed('certificate is not a DER X.509 certificate');
    }
    const code = payload!.reason ?? 0;
    const reason = typeof code === 'number' ? subscriberReasons.get(code) : undefined;
    if (!reason) throw new AcmeProblem('badRevocationReason', 400, `reason must be one of ${[...subscriberReasons.keys()].join(', ')} (RFC 5280 CRLReason)`);

    const serial = certificate.serialNumber.toLowerCase().replace(/^0+(?=.)/, '');
    const version = await this.#repo.issuedVersionBySerial(serial);
    if (!version || version.fingerprint !== createHash('sha256').update(der).digest('hex'))
      throw AcmeProblems.notFound(`a certificate issued here with serial ${serial}`);
    let actor: string;
    if (request.account) {
      if (version.account_id !== request.account.id) throw AcmeProblems.unauthorized('this account did not order this certificate');
      actor = request.account.id;
    } else {
      if (spkiSha256(request.key) !== spkiSha256(certificate.publicKey)) throw AcmeProblems.unauthorized("the request is not signed by the certificate's key");
      actor = `acme-certificate-key:${serial}`;
    }
    if (version.revoked) throw new AcmeProblem('alreadyRevoked', 400, `certificate ${serial} is already revoked`);
    try {
      await this.#revocation.revoke(acmePrincipal(actor), version.certificate_id, reason);
    } catch (err) {
      if (isAppError(err) && err.kind === 'conflict') throw new AcmeProblem('alreadyRevoked', 400, `certificate ${serial} is already revoked`);
      throw err;
    }
  }
}
