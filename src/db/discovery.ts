/**
 * Discovered certificates and discovery scans. A report is one transaction: the scan row, then
 * one set-based upsert of its certificates keyed on (fingerprint, agent, path). A certificate
 * certfleet itself issued (its fingerprint is a stored version) arrives already Managed.
 */
import type { CertificateInfo } from '../pki/certificate-info.ts';
import type { Pool } from './pool.ts';
import { Conditions, withTransaction } from './sql.ts';
import type { DiscoveredCertificateRow, DiscoveryFilter, DiscoveryScanRow, DiscoveryStatus } from '../domain/discovery.ts';

export interface FoundCertificate {
  id: string;
  info: CertificateInfo;
  source_path: string;
  source_format: 'PEM' | 'DER';
}

export interface NewScan {
  id: string;
  agentId: string;
  directories: string[];
  errors: string[];
  scanDurationMs: number;
}

export interface DiscoveryRepository {
  /** Records a scan and upserts its certificates; 'missing'/'retired' for an agent that cannot report. */
  recordScan(scan: NewScan, found: readonly FoundCertificate[]): Promise<DiscoveryScanRow | 'missing' | 'retired'>;
  get(id: string): Promise<DiscoveredCertificateRow | undefined>;
  list(filter: DiscoveryFilter, limit: number, afterId: string | undefined): Promise<DiscoveredCertificateRow[]>;
  listScans(agentId: string | undefined, limit: number, afterId: string | undefined): Promise<DiscoveryScanRow[]>;
  /** Links to a managed certificate; 'missing' (discovered id) or 'no-certificate' (managed id). */
  claim(id: string, managedCertificateId: string): Promise<DiscoveredCertificateRow | 'missing' | 'no-certificate'>;
  dismiss(id: string): Promise<DiscoveredCertificateRow | undefined>;
  summary(agentId: string | undefined): Promise<Record<DiscoveryStatus, number>>;
}

const columns = `id, fingerprint_sha256, common_name, sans, serial_number, issuer_dn, subject_dn, not_before, not_after,
  key_algorithm, key_size, is_ca, pem_data, source_path, source_format, agent_id, discovery_scan_id,
  managed_certificate_id, status, first_seen_at, last_seen_at, dismissed_at, created_at, updated_at`;

export function createDiscoveryRepository(pool: Pool): DiscoveryRepository {
  const get = async (id: string) => (await pool.query<DiscoveredCertificateRow>(`SELECT ${columns} FROM discovered_certificates WHERE id = $1`, [id])).rows[0];
  return {
    get,

    recordScan(scan, found) {
      return withTransaction(pool, async (client) => {
        // FOR SHARE: a concurrent retire waits for this report rather than racing it.
        const agent = await client.query<{ retired: boolean }>('SELECT retired_at IS NOT NULL AS retired FROM agents WHERE id = $1 FOR SHARE', [scan.agentId]);
        if (!agent.rows[0]) return 'missing';
        if (agent.rows[0].retired) return 'retired';
        await client.query(
          `INSERT INTO discovery_scans (id, agent_id, directories, certificates_found, certificates_new, errors_count, errors,
                                        scan_duration_ms, started_at)
           VALUES ($1, $2, $3, $4, 0, $5, $6, $7::integer, now() - make_interval(secs => $7::integer / 1000.0))`,
          [scan.id, scan.agentId, scan.directories, found.length, scan.errors.length, scan.errors, scan.scanDurationMs],
        );
        let created = 0;
        if (found.length > 0) {
          // Sorted by the conflict key (the caller de-duplicates): concurrent reports lock rows in one order.
          const rows = [...found]
            .sort((a, b) => compare(a.info.fingerprint_sha256 + a.source_path, b.info.fingerprint_sha256 + b.source_path))
            .map((f) => ({
              ...f.info,
              id: f.id,
              not_before: new Date(f.info.not_before).toISOString(),
              not_after: new Date(f.info.not_after).toISOString(),
              source_path: f.source_path,
              source_format: f.source_format,
            }));
          const upserted = await client.query<{ inserted: boolean }>(
            `INSERT INTO discovered_certificates AS d (id, fingerprint_sha256, common_name, sans, serial_number, issuer_dn, subject_dn,
                    not_before, not_after, key_algorithm, key_size, is_ca, pem_data, source_path, source_format, agent_id,
                    discovery_scan_id, managed_certificate_id, status)
             SELECT u.id, u.fingerprint_sha256, u.common_name, u.sans, u.serial_number, u.issuer_dn, u.subject_dn,
                    u.not_before, u.not_after, u.key_algorithm, u.key_size, u.is_ca, u.pem, u.source_path, u.source_format, $2,
                    $3, v.certificate_id, CASE WHEN v.certificate_id IS NULL THEN 'Unmanaged' ELSE 'Managed' END
               FROM jsonb_to_recordset($1::jsonb) AS u(id text, fingerprint_sha256 text, common_name text, sans text[],
                    serial_number text, issuer_dn text, subject_dn text, not_before timestamptz, not_after timestamptz,
                    key_algorithm text, key_size integer, is_ca boolean, pem text, source_path text, source_format text)
               LEFT JOIN certificate_versions v ON v.fingerprint_sha256 = u.fingerprint_sha256
             ON CONFLICT ON CONSTRAINT discovered_certificates_location_key
             DO UPDATE SET last_seen_at = now(), discovery_scan_id = excluded.discovery_scan_id, updated_at = now()
             RETURNING (xmax = 0) AS inserted`,
            [JSON.stringify(rows), scan.agentId, scan.id],
          );
          created = upserted.rows.filter((r) => r.inserted).length;
        }
        const { rows } = await client.query<DiscoveryScanRow>('UPDATE discovery_scans SET certificates_new = $2 WHERE id = $1 RETURNING *', [scan.id, created]);
        return rows[0]!;
      });
    },

    async list(filter, limit, afterId) {
      const c = new Conditions();
      if (filter.agent_id) c.add('agent_id = ?', filter.agent_id);
      if (filter.status) c.add('status = ?', filter.status);
      if (afterId) c.add('id > ?', afterId);
      const { rows } = await pool.query<DiscoveredCertificateRow>(
        `SELECT ${columns} FROM discovered_certificates ${c.where} ORDER BY id LIMIT ${c.param(limit)}`,
        c.params,
      );
      return rows;
    },

    async listScans(agentId, limit, afterId) {
      const c = new Conditions();
      if (agentId) c.add('agent_id = ?', agentId);
      if (afterId) c.add('id > ?', afterId);
      const { rows } = await pool.query<DiscoveryScanRow>(`SELECT * FROM discovery_scans ${c.where} ORDER BY id LIMIT ${c.param(limit)}`, c.params);
      return rows;
    },

    async claim(id, managedCertificateId) {
      const { rows } = await pool.query<DiscoveredCertificateRow>(
        `UPDATE discovered_certificates SET status = 'Managed', managed_certificate_id = $2, dismissed_at = NULL, updated_at = now()
          WHERE id = $1 AND EXISTS (SELECT 1 FROM certificates WHERE id = $2)
         RETURNING ${columns}`,
        [id, managedCertificateId],
      );
      if (rows[0]) return rows[0];
      return (await get(id)) ? 'no-certificate' : 'missing';
    },

    async dismiss(id) {
      const { rows } = await pool.query<DiscoveredCertificateRow>(
        `UPDATE discovered_certificates SET status = 'Dismissed', dismissed_at = coalesce(dismissed_at, now()), updated_at = now()
          WHERE id = $1 RETURNING ${columns}`,
        [id],
      );
      return rows[0];
    },

    async summary(agentId) {
      const { rows } = await pool.query<{ status: DiscoveryStatus; n: string }>(
        `SELECT status, count(*) AS n FROM discovered_certificates WHERE ($1::text IS NULL OR agent_id = $1) GROUP BY status`,
        [agentId ?? null],
      );
      const out: Record<DiscoveryStatus, number> = { Unmanaged: 0, Managed: 0, Dismissed: 0 };
      for (const r of rows) out[r.status] = Number(r.n);
      return out;
    },
  };
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
