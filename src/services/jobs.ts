/** Renewal requests and the jobs API: enqueue, read, cancel. Every change is audited. */
import type { CertificateCriteria } from '../db/certificate-criteria.ts';
import type { JobRepository } from '../db/jobs.ts';
import type { JobFilter, JobRow } from '../domain/jobs.ts';
import { Errors } from '../errors.ts';
import type { AuditWriter } from './audit/writer.ts';
import type { Principal } from './auth/permissions.ts';
import { Keyset, type CursorCodec } from './cursor.ts';
import { newId } from '../domain/ids.ts';

export class JobService {
  constructor(
    private readonly repo: JobRepository,
    private readonly audit: AuditWriter,
    private readonly cursors: CursorCodec,
  ) {}

  /** Enqueues the certificate's renewal (AwaitingCSR): at most one open per certificate. */
  renew(principal: Principal | undefined, certificateId: string): Promise<JobRow> {
    return this.audit.atomically(async () => {
      const outcome = await this.repo.enqueueRenewal(certificateId, newId('job'));
      switch (outcome.result) {
        case 'missing':
          throw Errors.notFound(`certificate ${certificateId} not found`);
        case 'open':
          throw Errors.conflict(`certificate ${certificateId} already has an open issuance or renewal job`);
        case 'enqueued':
          await this.audit.record(principal, {
            action: 'renewal_requested',
            resourceType: 'certificate',
            resourceId: certificateId,
            category: 'cert_lifecycle',
            details: { job_id: outcome.job.id, type: outcome.job.type },
          });
          return outcome.job;
        default:
          throw Errors.conflict(`certificate ${certificateId} is ${outcome.result} and cannot be renewed`);
      }
    });
  }

  /** Renewal of every certificate matching the criteria, set-based (no row cap); audited once. */
  bulkRenew(principal: Principal | undefined, criteria: CertificateCriteria) {
    return this.audit.atomically(async () => {
      const { matched, enqueued } = await this.repo.bulkRenew(criteria);
      const totals = { total_matched: matched, total_enqueued: enqueued, total_skipped: matched - enqueued, total_failed: 0 };
      await this.audit.record(principal, {
        action: 'bulk_renewal_initiated',
        resourceType: 'certificate',
        resourceId: 'bulk',
        category: 'cert_lifecycle',
        details: { criteria, ...totals },
      });
      return totals;
    });
  }

  async get(id: string): Promise<JobRow> {
    const job = await this.repo.get(id);
    if (!job) throw Errors.notFound(`job ${id} not found`);
    return job;
  }

  async list(filter: JobFilter, perPage: number, cursor: string | undefined): Promise<{ rows: JobRow[]; nextCursor: string | undefined }> {
    const keyset = new Keyset(this.cursors, 'jobs:id', filter);
    return keyset.page(await this.repo.list(filter, perPage + 1, keyset.after(cursor)?.id), perPage);
  }

  /** Only Pending, AwaitingCSR and Running jobs can be cancelled (409 otherwise). */
  cancel(principal: Principal | undefined, id: string): Promise<JobRow> {
    return this.audit.atomically(async () => {
      const result = await this.repo.cancel(id);
      if (!result) throw Errors.notFound(`job ${id} not found`);
      if (!result.cancelled) throw Errors.conflict(`job ${id} is ${result.job.status} and can no longer be cancelled`);
      await this.audit.record(principal, {
        action: 'job_cancelled',
        resourceType: 'job',
        resourceId: id,
        category: 'cert_lifecycle',
        details: { certificate_id: result.job.certificate_id, type: result.job.type },
      });
      return result.job;
    });
  }
}
