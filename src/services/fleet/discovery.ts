/**
 * Discovery: agents report the certificates their filesystem scans found; operators list them,
 * claim them (link to a managed certificate) or dismiss them.
 *
 * Step 1: parse every reported certificate in a worker; any entry that is not exactly one X.509
 *         certificate is a 400 naming its index (nothing is recorded).
 * Step 2: merge entries for the same (fingerprint, path): one upsert row each.
 * Step 3: record the scan and upsert its certificates in one transaction; audit the scan.
 */
import type { DiscoveryRepository, FoundCertificate } from '../../db/discovery.ts';
import type { DiscoveredCertificateRow, DiscoveryFilter, DiscoveryScanRow, DiscoveryStatus } from '../../domain/discovery.ts';
import { Errors } from '../../errors.ts';
import type { WorkerPool } from '../../workers/pool.ts';
import type { AuditWriter } from '../audit/writer.ts';
import type { Principal } from '../auth/permissions.ts';
import { Keyset, type CursorCodec } from '../cursor.ts';
import { newId } from '../../domain/ids.ts';

export interface DiscoveryReport {
  directories: string[];
  certificates: Array<{ pem_data: string; source_path: string; source_format: 'PEM' | 'DER' }>;
  errors: string[];
  scan_duration_ms: number;
}

interface Page<T> {
  rows: T[];
  nextCursor: string | undefined;
}

export class DiscoveryService {
  constructor(
    private readonly repo: DiscoveryRepository,
    private readonly workers: Pick<WorkerPool, 'run'>,
    private readonly audit: AuditWriter,
    private readonly cursors: CursorCodec,
  ) {}

  async report(principal: Principal | undefined, agentId: string, report: DiscoveryReport): Promise<DiscoveryScanRow> {
    // Step 1
    const parsed = report.certificates.length
      ? await this.workers.run(
          'readCertificates',
          report.certificates.map((c) => c.pem_data),
        )
      : [];
    // Step 2
    const found = new Map<string, FoundCertificate>();
    parsed.forEach((result, i) => {
      if (!result.ok) throw Errors.validation(`certificates.${i}.pem_data: not one X.509 certificate (${result.reason})`);
      const { source_path, source_format } = report.certificates[i]!;
      found.set(`${result.info.fingerprint_sha256}\n${source_path}`, { id: newId('dcert'), info: result.info, source_path, source_format });
    });
    // Step 3
    return this.audit.atomically(async () => {
      const scan = await this.repo.recordScan(
        { id: newId('dscan'), agentId, directories: report.directories, errors: report.errors, scanDurationMs: report.scan_duration_ms },
        [...found.values()],
      );
      if (scan === 'missing') throw Errors.notFound(`agent ${agentId} not found`);
      if (scan === 'retired') throw Errors.gone(`agent ${agentId} is retired`);
      await this.audit.record(principal, {
        action: 'discovery_scan_completed',
        resourceType: 'agent',
        resourceId: agentId,
        category: 'fleet',
        details: { scan_id: scan.id, certificates_found: scan.certificates_found, certificates_new: scan.certificates_new, errors_count: scan.errors_count },
      });
      return scan;
    });
  }

  async get(id: string): Promise<DiscoveredCertificateRow> {
    const row = await this.repo.get(id);
    if (!row) throw Errors.notFound(`discovered certificate ${id} not found`);
    return row;
  }

  async list(filter: DiscoveryFilter, perPage: number, cursor: string | undefined): Promise<Page<DiscoveredCertificateRow>> {
    const keyset = new Keyset(this.cursors, 'discovered:id', filter);
    return keyset.page(await this.repo.list(filter, perPage + 1, keyset.after(cursor)?.id), perPage);
  }

  async listScans(agentId: string | undefined, perPage: number, cursor: string | undefined): Promise<Page<DiscoveryScanRow>> {
    const keyset = new Keyset(this.cursors, 'discovery-scans:id', { agent_id: agentId });
    return keyset.page(await this.repo.listScans(agentId, perPage + 1, keyset.after(cursor)?.id), perPage);
  }

  claim(principal: Principal | undefined, id: string, managedCertificateId: string): Promise<DiscoveredCertificateRow> {
    return this.audit.atomically(async () => {
      const result = await this.repo.claim(id, managedCertificateId);
      if (result === 'missing') throw Errors.notFound(`discovered certificate ${id} not found`);
      if (result === 'no-certificate') throw Errors.validation(`managed_certificate_id: certificate ${managedCertificateId} not found`);
      await this.audit.record(principal, {
        action: 'discovered_certificate_claimed',
        resourceType: 'discovered_certificate',
        resourceId: id,
        category: 'fleet',
        details: { managed_certificate_id: managedCertificateId },
      });
      return result;
    });
  }

  dismiss(principal: Principal | undefined, id: string): Promise<DiscoveredCertificateRow> {
    return this.audit.atomically(async () => {
      const row = await this.repo.dismiss(id);
      if (!row) throw Errors.notFound(`discovered certificate ${id} not found`);
      await this.audit.record(principal, {
        action: 'discovered_certificate_dismissed',
        resourceType: 'discovered_certificate',
        resourceId: id,
        category: 'fleet',
      });
      return row;
    });
  }

  summary(agentId: string | undefined): Promise<Record<DiscoveryStatus, number>> {
    return this.repo.summary(agentId);
  }
}
