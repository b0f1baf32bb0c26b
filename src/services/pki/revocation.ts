/** Revoking certificates (one, or any number matching criteria) and refreshing the CRLs. */
import type { RevocationCriteria, RevocationRepository } from '../../db/revocations.ts';
import { Errors } from '../../errors.ts';
import type { RevocationReason } from '../../pki/crl.ts';
import type { AuditWriter } from '../audit/writer.ts';
import type { Principal } from '../auth/permissions.ts';
import type { CrlService } from './crl.ts';

export class RevocationService {
  constructor(
    private readonly repo: RevocationRepository,
    private readonly crls: CrlService,
    private readonly audit: AuditWriter,
  ) {}

  /** Revokes every issued version of the certificate; 409 if already revoked or archived. */
  async revoke(principal: Principal | undefined, certificateId: string, reason: RevocationReason): Promise<{ revokedSerials: number }> {
    const outcome = await this.audit.atomically(async () => {
      const outcome = await this.repo.revoke(certificateId, reason, principal?.keyId ?? 'system');
      if (outcome.result === 'missing') throw Errors.notFound(`certificate ${certificateId} not found`);
      if (outcome.result !== 'revoked') throw Errors.conflict(`certificate ${certificateId} is already ${outcome.result}`);
      await this.audit.record(principal, {
        action: 'certificate_revoked',
        resourceType: 'certificate',
        resourceId: certificateId,
        category: 'cert_lifecycle',
        details: { reason, serials: outcome.serials },
      });
      return outcome;
    });
    this.crls.scheduleRebuild(outcome.issuerId);
    return { revokedSerials: outcome.serials };
  }

  /** Set-based: one statement whatever the number of matches; Revoked/Archived ones are skipped. */
  async bulkRevoke(principal: Principal | undefined, criteria: RevocationCriteria, reason: RevocationReason) {
    const { totals, issuers } = await this.audit.atomically(async () => {
      const { matched, revoked, issuers } = await this.repo.bulkRevoke(criteria, reason, principal?.keyId ?? 'system');
      const totals = { total_matched: matched, total_revoked: revoked, total_skipped: matched - revoked, total_failed: 0 };
      await this.audit.record(principal, {
        action: 'bulk_revocation',
        resourceType: 'certificate',
        resourceId: 'bulk',
        category: 'cert_lifecycle',
        details: { criteria, reason, ...totals },
      });
      return { totals, issuers };
    });
    for (const issuerId of issuers) this.crls.scheduleRebuild(issuerId);
    return totals;
  }
}
